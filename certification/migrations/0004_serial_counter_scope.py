"""Serial counters count per fixed part of the number (the pattern with # for the sequence), no longer per region
and year: with the default pattern, the counter of 140500 and 2026 becomes that of 140500-2026-#."""

from django.db import migrations, models


def scopes_from_region_and_year(apps, schema_editor):
    SerialCounter = apps.get_model("certification", "SerialCounter")
    for counter in SerialCounter.objects.all():
        SerialCounter.objects.filter(pk=counter.pk).update(scope=f"{counter.region}-{counter.year}-#")


class Migration(migrations.Migration):
    dependencies = [("certification", "0003_private_holder_random_status_index")]

    operations = [
        migrations.AddField(model_name="serialcounter", name="scope", field=models.CharField(max_length=40, null=True)),
        migrations.RunPython(scopes_from_region_and_year, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="serialcounter", name="serial_counter_unique"),
        migrations.AlterField(
            model_name="serialcounter", name="scope", field=models.CharField(max_length=40, unique=True)
        ),
    ]
