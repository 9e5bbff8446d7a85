"""The only writers of evaluations; certificates are in certificates.py, exams and practicals in their packages."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from accounts.models import CaregiverProfile, Role, User

from .eligibility import caregiver_facts, star_level_compute
from .exams.services import (  # noqa: F401  (exam services keep their historical import path)
    DEADLINE_GRACE,
    attempt_answer_save,
    attempt_answers_save,
    attempt_start,
    attempt_submit,
    attempts_close_overdue,
)
from .models import Evaluation, StarRuleSet

logger = logging.getLogger(__name__)


# --- Star evaluations ----------------------------------------------------------------------------------


def assessor_conflict(*, assessor: User, caregiver: CaregiverProfile) -> str | None:
    """Why this assessor may not assess this caregiver, or None."""
    if assessor.pk == caregiver.user_id:
        return _("No one may assess themselves.")
    assessor_institution_id = getattr(getattr(assessor, "assessor_profile", None), "institution_id", None)
    if assessor_institution_id is not None and assessor_institution_id == caregiver.institution_id:
        return _("An assessor may not assess staff of their own institution.")
    return None


def evaluation_record(
    *,
    assessor: User,
    caregiver: CaregiverProfile,
    rule_set: StarRuleSet,
    practical_score: int,
    level: int,
    reason: str = "",
) -> Evaluation:
    if not assessor.has_role(Role.ASSESSOR):
        raise PermissionDenied(_("Only assessors record star evaluations."))
    conflict = assessor_conflict(assessor=assessor, caregiver=caregiver)
    if conflict:
        raise PermissionDenied(conflict)
    if not 0 <= practical_score <= 100:
        raise ValidationError(_("The practical score is a number from 0 to 100."))
    eligibility = star_level_compute(
        facts=caregiver_facts(caregiver=caregiver), rule_set=rule_set, practical_score=practical_score
    )
    if eligibility.computed_level < 1:
        raise ValidationError(_("The caregiver does not yet meet the criteria of any star level."))
    if not 1 <= level <= eligibility.computed_level:
        raise ValidationError(
            _("The level may not exceed the computed level of %(level)s stars.") % {"level": eligibility.computed_level}
        )
    if level < eligibility.computed_level and not reason.strip():
        raise ValidationError(_("Give a written reason for awarding less than the computed level."))
    with transaction.atomic():
        evaluation = Evaluation.objects.create(
            caregiver=caregiver,
            assessor=assessor,
            rule_set=rule_set,
            practical_score=practical_score,
            computed_level=eligibility.computed_level,
            level=level,
            reason=reason.strip(),
            criteria_snapshot=eligibility.as_snapshot(),
            status=Evaluation.Status.DECIDED,
            decided_at=timezone.now(),
        )
        log(
            evaluation,
            "carestar.evaluation.decide",
            user=assessor,
            data={"before": None, "after": {"level": level, "computed_level": eligibility.computed_level}},
        )
        from .tasks import certificate_issue_task

        transaction.on_commit(lambda: certificate_issue_task.delay(evaluation.pk))
    return evaluation
