"""Model fields that keep identity card numbers encrypted at rest (accounts.national_id_crypto)."""

from django import forms
from django.core.exceptions import FieldError
from django.db import models

from .national_id import national_id_normalize
from .national_id_crypto import national_id_decrypt, national_id_digest, national_id_encrypt

NUMBER_LENGTH = 18


class EncryptedNationalIdField(models.TextField):
    """The number as code reads and writes it, normalised; a Fernet token in the database.

    A token differs at every write, so SQL can never compare numbers: a look-up goes through the digest
    (`CaregiverProfile.objects.with_national_id`), and any other lookup on this field is refused rather than
    silently matching nothing.
    """

    def from_db_value(self, value, expression, connection):
        return value if not value else national_id_decrypt(value)

    def to_python(self, value):
        return value if value is None else national_id_normalize(str(value))

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if not value else national_id_encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted and cannot be compared in the database "
            f"(__{lookup_name}); look rows up by the number's digest instead."
        )

    def get_transform(self, lookup_name):
        return None

    def formfield(self, **kwargs):
        # A one-line input of 18 characters, not the text area of a TextField.
        return models.Field.formfield(self, **{"form_class": forms.CharField, "max_length": NUMBER_LENGTH, **kwargs})


class NationalIdDigestField(models.CharField):
    """The keyed hash of the number in `source`, computed whenever the row is written (save and bulk_create): what
    look-ups and the uniqueness constraint compare."""

    def __init__(self, *args, source: str = "national_id", **kwargs):
        self.source = source
        kwargs["max_length"] = 64
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        del kwargs["max_length"], kwargs["editable"]
        if self.source != "national_id":
            kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = national_id_digest(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value
