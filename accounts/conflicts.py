"""The conflict-of-interest rule: no one assesses or reviews themselves or the staff of their own institution."""

from django.utils.translation import gettext as _

from .models import CaregiverProfile, User


def user_institution_id(user: User) -> int | None:
    """The institution whose staff this person may not assess or review: their assessor profile's, else their own."""
    profile = getattr(user, "assessor_profile", None)
    if profile is not None and profile.institution_id is not None:
        return profile.institution_id
    return user.institution_id


def assessor_conflict(*, assessor: User, caregiver: CaregiverProfile) -> str | None:
    """Why this person may not assess or review this caregiver, or None."""
    if assessor.pk == caregiver.user_id:
        return _("No one may assess themselves.")
    institution_id = user_institution_id(assessor)
    if institution_id is not None and institution_id == caregiver.institution_id:
        return _("No one may assess or review staff of their own institution.")
    return None
