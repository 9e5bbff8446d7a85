"""Certificates name their holder by an opaque subject, no longer by a salted hash of the identity card number,
and draw their revocation bit at random. Certificates already issued keep the bit their credentials point at."""

from django.db import migrations, models


def holders_and_bits(apps, schema_editor):
    Certificate = apps.get_model("certification", "Certificate")
    subjects = dict(apps.get_model("accounts", "CaregiverProfile").objects.values_list("pk", "credential_subject"))
    for certificate in Certificate.objects.only("pk", "caregiver_id").iterator():
        Certificate.objects.filter(pk=certificate.pk).update(
            holder_subject=subjects[certificate.caregiver_id], status_list_index=certificate.pk
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_credential_subject"),
        ("certification", "0002_decided_evaluations_immutable"),
    ]

    operations = [
        migrations.AddField(
            model_name="certificate", name="holder_subject", field=models.UUIDField(editable=False, null=True)
        ),
        migrations.AddField(
            model_name="certificate",
            name="status_list_index",
            field=models.PositiveIntegerField(editable=False, null=True),
        ),
        migrations.RunPython(holders_and_bits, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="certificate", name="holder_subject", field=models.UUIDField(editable=False)
        ),
        migrations.AlterField(
            model_name="certificate",
            name="status_list_index",
            field=models.PositiveIntegerField(editable=False, unique=True),
        ),
        migrations.RemoveField(model_name="certificate", name="holder_identity_salt"),
        migrations.RemoveField(model_name="certificate", name="holder_identity_hash"),
    ]
