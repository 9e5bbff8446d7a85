from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from .photos import photo_normalize


class CaregiverProfileForm(WagtailAdminModelForm):
    """A caregiver's record in the admin; a new photo needs the caregiver's consent, recorded with who saw it.

    The identity number is never sent to the page: on an existing record its box starts empty, shows the masked
    number, and keeps the number when left empty (the whole number is only shown by the audited reveal)."""

    photo_consent = forms.BooleanField(
        label=_("The caregiver agrees to this photo being printed on their certificates"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.registered_national_id = self.instance.national_id if self.instance.pk else ""
        field = self.fields.get("national_id")
        if field is not None and self.registered_national_id:
            masked = self.instance.national_id_masked
            self.initial["national_id"] = ""
            field.required = False
            field.widget.attrs.update({"placeholder": masked, "autocomplete": "off"})
            field.help_text = _("Registered: %(masked)s. Leave empty to keep it; type a number to replace it.") % {
                "masked": masked
            }

    def clean_national_id(self):
        return self.cleaned_data.get("national_id") or self.registered_national_id

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and "photo" in self.changed_data:
            return photo_normalize(photo)
        return photo

    def clean(self):
        cleaned = super().clean()
        if "photo" in self.changed_data and cleaned.get("photo") and not cleaned.get("photo_consent"):
            self.add_error("photo_consent", _("Record the caregiver's consent before saving a photo."))
        return cleaned

    def save(self, commit=True):
        previous = self.instance.__class__.objects.filter(pk=self.instance.pk).values_list("photo", flat=True).first()
        profile = super().save(commit=False)
        if "photo" in self.changed_data:
            if profile.photo:
                profile.photo_consent_at = timezone.now()
                profile.photo_consent_by = self.for_user
            else:
                profile.photo_consent_at = profile.photo_consent_by = None
        if commit:
            profile.save()
            self.save_m2m()
            if previous and "photo" in self.changed_data and previous != profile.photo.name:
                # A replaced or cleared photo is not kept: certificates hold their own copies.
                profile.photo.storage.delete(previous)
        return profile
