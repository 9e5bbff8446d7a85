import uuid

from django.db import migrations, models


def subjects_draw(apps, schema_editor):
    CaregiverProfile = apps.get_model("accounts", "CaregiverProfile")
    for profile in CaregiverProfile.objects.only("pk").iterator():
        CaregiverProfile.objects.filter(pk=profile.pk).update(credential_subject=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="caregiverprofile",
            name="credential_subject",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(subjects_draw, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="caregiverprofile",
            name="credential_subject",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
