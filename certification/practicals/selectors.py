from accounts.models import CaregiverProfile, User

from .models import PracticalAssessment


def assessments_for_assessor(*, assessor: User, status: str = PracticalAssessment.Status.ASSIGNED):
    return (
        PracticalAssessment.objects.filter(assessor=assessor, status=status)
        .select_related("template__service_item", "caregiver__user", "caregiver__institution")
        .order_by("scheduled_on", "assigned_at")
    )


def practical_latest(*, caregiver: CaregiverProfile) -> PracticalAssessment | None:
    """The caregiver's most recently scored practical assessment, which the star evaluation uses."""
    return (
        PracticalAssessment.objects.filter(caregiver=caregiver, status=PracticalAssessment.Status.SCORED)
        .select_related("template", "assessor")
        .order_by("-scored_at", "-id")
        .first()
    )
