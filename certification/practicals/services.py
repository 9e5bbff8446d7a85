"""The only writers of practical assessments: assignment of a candidate to an assessor, and scoring."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from accounts.conflicts import assessor_conflict
from accounts.models import CaregiverProfile, Role, User

from .models import PracticalAssessment, PracticalStepScore, PracticalTemplate


def practical_assign(
    *,
    template: PracticalTemplate,
    caregiver: CaregiverProfile,
    assessor: User,
    assigned_by: User,
    scheduled_on=None,
) -> PracticalAssessment:
    if not assigned_by.is_administrator:
        raise PermissionDenied(_("Only administrators assign candidates to assessors."))
    if not assessor.has_role(Role.ASSESSOR):
        raise ValidationError({"assessor": _("Choose a user who is an assessor.")})
    conflict = assessor_conflict(assessor=assessor, caregiver=caregiver)
    if conflict:
        raise ValidationError({"assessor": conflict})
    if not template.is_active:
        raise ValidationError({"template": _("This checklist is no longer in use.")})
    try:
        with transaction.atomic():
            assessment = PracticalAssessment.objects.create(
                template=template,
                caregiver=caregiver,
                assessor=assessor,
                assigned_by=assigned_by,
                scheduled_on=scheduled_on,
            )
            log(
                assessment,
                "carestar.practical.assign",
                user=assigned_by,
                data={"assessor": assessor.pk, "caregiver": caregiver.pk, "template": template.pk},
            )
    except IntegrityError:
        raise ValidationError(
            {"caregiver": _("This candidate already has an assessment with this checklist waiting to be scored.")}
        )
    return assessment


def practical_score(
    *, assessment: PracticalAssessment, assessor: User, points: dict[int, int], notes: str = ""
) -> PracticalAssessment:
    """Score every step once. A critical step short of full points fails the item whatever the total."""
    with transaction.atomic():
        assessment = (
            PracticalAssessment.objects.select_for_update()
            .select_related("caregiver", "template")
            .get(pk=assessment.pk)
        )
        if assessment.assessor_id != assessor.pk or not assessor.has_role(Role.ASSESSOR):
            raise PermissionDenied(_("Only the assigned assessor scores this assessment."))
        conflict = assessor_conflict(assessor=assessor, caregiver=assessment.caregiver)
        if conflict:
            raise PermissionDenied(conflict)
        if assessment.status != PracticalAssessment.Status.ASSIGNED:
            raise ValidationError(_("This assessment has already been scored."))
        steps = list(assessment.template.steps.order_by("sort_order", "id"))
        errors = []
        scores = []
        for position, step in enumerate(steps, start=1):
            awarded = points.get(step.pk)
            if awarded is None:
                errors.append(_("Step %(number)s has no score.") % {"number": position})
            elif not 0 <= awarded <= step.points:
                errors.append(
                    _("Step %(number)s takes 0 to %(points)s points.") % {"number": position, "points": step.points}
                )
            else:
                scores.append(
                    PracticalStepScore(
                        assessment=assessment,
                        step=step,
                        position=position,
                        text=step.text,
                        max_points=step.points,
                        is_critical=step.is_critical,
                        points_awarded=awarded,
                    )
                )
        if errors:
            raise ValidationError(errors)
        total = sum(score.max_points for score in scores)
        earned = sum(score.points_awarded for score in scores)
        assessment.score = (Decimal(100 * earned) / Decimal(total)).quantize(Decimal("0.1"))
        assessment.critical_failed = any(score.failed_critical for score in scores)
        assessment.passed = not assessment.critical_failed and assessment.score >= assessment.template.pass_mark
        assessment.status = PracticalAssessment.Status.SCORED
        assessment.scored_at = timezone.now()
        assessment.notes = notes.strip()
        PracticalStepScore.objects.bulk_create(scores)
        assessment.save(update_fields=["score", "critical_failed", "passed", "status", "scored_at", "notes"])
        log(
            assessment,
            "carestar.practical.score",
            user=assessor,
            data={"score": str(assessment.score), "passed": assessment.passed},
        )
    return assessment
