"""Reads for evaluations: queues, due lists, round progress, a caregiver's history. Fixed query counts."""

import datetime

from django.db.models import CharField, Count, OuterRef, Q, Subquery
from django.db.models.functions import Cast
from django.utils import timezone
from wagtail.models import ModelLogEntry

from accounts.conflicts import user_institution_id
from accounts.models import CaregiverProfile, County, Institution, Role, User

from ..rules.eligibility import Eligibility, caregiver_facts, rule_set_current, star_level_compute
from ..rules.models import StarRuleSet
from .models import Evaluation, EvaluationRound

DUE_SOON_DAYS = 60


def _latest_decision(field: str) -> Subquery:
    return Subquery(Evaluation.objects.filter(caregiver=OuterRef("pk")).decided_latest_first().values(field)[:1])


def caregivers_with_star_level():
    """Caregivers annotated with their level in force and when it must be re-evaluated (None: never rated)."""
    return CaregiverProfile.objects.annotate(
        star_level=_latest_decision("level"), re_evaluation_due_on=_latest_decision("re_evaluation_due_on")
    )


def caregivers_in_scope(
    *, institution: Institution | None = None, county: County | None = None, due_by: datetime.date | None = None
):
    caregivers = caregivers_with_star_level()
    if institution is not None:
        caregivers = caregivers.filter(institution=institution)
    if county is not None:
        caregivers = caregivers.filter(institution__county=county)
    if due_by is not None:
        caregivers = caregivers.filter(re_evaluation_due_on__lte=due_by)
    return caregivers


def re_evaluation_due(*, viewer: User, within_days: int = DUE_SOON_DAYS, today: datetime.date | None = None):
    """Caregivers whose re-evaluation is due (or overdue) within the coming days and who have none open.

    Managers see their own institution's staff; administrators everyone.
    """
    today = today or timezone.localdate()
    caregivers = (
        caregivers_with_star_level()
        .filter(re_evaluation_due_on__lte=today + datetime.timedelta(days=within_days))
        .exclude(evaluations__status__in=Evaluation.OPEN_STATUSES)
        .select_related("user", "institution__county")
        .order_by("re_evaluation_due_on", "pk")
    )
    if viewer.is_administrator:
        return caregivers
    if viewer.institution_id is not None:
        return caregivers.filter(institution_id=viewer.institution_id)
    return caregivers.none()


def caregivers_for_nomination(*, manager: User):
    """A manager's staff with their level in force and the status of the evaluation they have open, if any."""
    if manager.institution_id is None:
        return CaregiverProfile.objects.none()
    open_status = Subquery(
        Evaluation.objects.filter(caregiver=OuterRef("pk"), status__in=Evaluation.OPEN_STATUSES).values("status")[:1]
    )
    return (
        caregivers_with_star_level()
        .filter(institution_id=manager.institution_id)
        .annotate(open_status=open_status)
        .select_related("user")
        .order_by("user__name", "pk")
    )


RE_EVALUATION_NOTICE = "carestar.evaluation.due_notice"


def re_evaluation_notices_pending(*, today: datetime.date, within_days: int = DUE_SOON_DAYS):
    """Decisions in force whose re-evaluation falls due within the coming days (or is overdue), whose caregiver
    has no evaluation open, and whose managers have not been told yet (no notice in the audit log)."""
    notified = ModelLogEntry.objects.filter(
        content_type__app_label="certification", content_type__model="evaluation", action=RE_EVALUATION_NOTICE
    ).values("object_id")
    return (
        Evaluation.objects.in_force()
        .filter(re_evaluation_due_on__lte=today + datetime.timedelta(days=within_days))
        .exclude(caregiver__evaluations__status__in=Evaluation.OPEN_STATUSES)
        # The audit log keys objects by text.
        .annotate(object_key=Cast("pk", CharField()))
        .exclude(object_key__in=notified)
        .select_related("caregiver__user")
        .order_by("caregiver__institution_id", "re_evaluation_due_on", "pk")
    )


def evaluations_listed():
    return Evaluation.objects.select_related(
        "caregiver__user", "caregiver__institution", "assessor", "reviewer", "rule_set", "round"
    )


def assessor_queue(*, assessor: User):
    """Evaluations waiting for this assessor's practical assessment and proposal."""
    return (
        evaluations_listed()
        .filter(assessor=assessor, status__in=[Evaluation.Status.ASSIGNED, Evaluation.Status.RETURNED])
        .order_by("assigned_at", "pk")
    )


def review_queue(*, reviewer: User):
    """Proposals this person may review: never their own, never their own institution's staff or themselves."""
    proposals = evaluations_listed().filter(status=Evaluation.Status.PROPOSED).exclude(assessor=reviewer)
    proposals = proposals.exclude(caregiver__user=reviewer)
    institution_id = user_institution_id(reviewer)
    if institution_id is not None:
        proposals = proposals.exclude(caregiver__institution_id=institution_id)
    return proposals.order_by("proposed_at", "pk")


def assessors_without_conflict(*, caregiver: CaregiverProfile):
    """Active assessors who may assess this caregiver (the rule of accounts.conflicts.assessor_conflict, in one query),
    least busy first: an assessor's institution is their assessor profile's, else their account's."""
    own_institution = Q(assessor_profile__institution_id=caregiver.institution_id) | Q(
        assessor_profile__institution__isnull=True, institution_id=caregiver.institution_id
    )
    return (
        User.objects.filter(role=Role.ASSESSOR, is_active=True)
        .exclude(pk=caregiver.user_id)
        .exclude(own_institution)
        .select_related("assessor_profile__institution")
        .annotate(
            open_evaluations=Count(
                "evaluations_assessed", filter=Q(evaluations_assessed__status__in=Evaluation.OPEN_STATUSES)
            )
        )
        .order_by("open_evaluations", "name", "pk")
    )


def round_progress(*, evaluation_round: EvaluationRound) -> dict:
    """How far a round has come: evaluations per status, in one query."""
    counts = dict(
        Evaluation.objects.filter(round=evaluation_round)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    total = sum(counts.values())
    decided = counts.get(Evaluation.Status.DECIDED, 0)
    closed = decided + counts.get(Evaluation.Status.WITHDRAWN, 0)
    return {
        "total": total,
        "by_status": {status: counts.get(status, 0) for status in Evaluation.Status.values},
        "decided": decided,
        "percent": round(100 * closed / total) if total else 100,
        "done": total == closed,
    }


def rounds_with_progress(*, viewer: User, limit: int = 50):
    rounds = EvaluationRound.objects.select_related("institution", "county", "opened_by").annotate(
        total=Count("evaluations"),
        decided=Count("evaluations", filter=Q(evaluations__status=Evaluation.Status.DECIDED)),
        closed=Count(
            "evaluations",
            filter=Q(evaluations__status__in=[Evaluation.Status.DECIDED, Evaluation.Status.WITHDRAWN]),
        ),
    )
    if not viewer.is_administrator:
        rounds = rounds.filter(institution_id=viewer.institution_id) if viewer.institution_id else rounds.none()
    return rounds[:limit]


def caregiver_history(*, caregiver: CaregiverProfile) -> dict:
    """Every evaluation, appeal and certificate of one caregiver, newest first, in a fixed number of queries.

    `current` is the decision in force (as `decision_current` finds it), `open` the evaluation in
    progress, `current_appeal` the appeal against the decision in force or the one that made it.
    """
    from ..models import Certificate

    evaluations = list(
        Evaluation.objects.filter(caregiver=caregiver)
        .select_related("assessor", "reviewer", "rule_set", "round", "revises")
        .prefetch_related("appeals")
        .order_by("-created_at", "-id")
    )
    decided = [evaluation for evaluation in evaluations if evaluation.status == Evaluation.Status.DECIDED]
    current = max(decided, key=lambda evaluation: (evaluation.decided_at, evaluation.pk), default=None)
    appeals = [appeal for evaluation in evaluations for appeal in evaluation.appeals.all()]
    by_pk = {evaluation.pk: evaluation for evaluation in evaluations}
    for appeal in appeals:
        if appeal.result_id in by_pk:
            appeal.result = by_pk[appeal.result_id]  # the new decision is in the list already: no query for it
    current_appeal = None
    if current is not None:
        current_appeal = next((appeal for appeal in appeals if appeal.evaluation_id == current.pk), None) or next(
            (appeal for appeal in appeals if appeal.result_id == current.pk), None
        )
    return {
        "evaluations": evaluations,
        "current": current,
        "open": next((evaluation for evaluation in evaluations if evaluation.is_open), None),
        "appeals": appeals,
        "current_appeal": current_appeal,
        "certificates": list(
            Certificate.objects.issued().filter(caregiver=caregiver).select_related("predecessor").order_by("-id")
        ),
    }


def appeal_possible(*, decision: Evaluation | None, today: datetime.date | None = None) -> bool:
    """Whether the caregiver may still appeal this decision: in force, within its window, not yet appealed.

    `decision` must come with its appeals prefetched (as `caregiver_history` gives it) and be the one in force.
    """
    if decision is None or decision.status != Evaluation.Status.DECIDED or decision.appeal_until is None:
        return False
    today = today or timezone.localdate()
    return today <= decision.appeal_until and not decision.appeals.all()


def decision_current(*, caregiver: CaregiverProfile) -> Evaluation | None:
    """The caregiver's decision in force: the latest decided evaluation."""
    return (
        Evaluation.objects.filter(caregiver=caregiver)
        .decided_latest_first()
        .select_related("rule_set", "assessor", "reviewer")
        .first()
    )


def evaluation_eligibility(
    *, evaluation: Evaluation, practical_score: int | None = None, rule_set: StarRuleSet | None = None
) -> Eligibility | None:
    """The criteria as they stand today for this evaluation, under its rule set or the one in force."""
    rule_set = rule_set or evaluation.rule_set or rule_set_current()
    if rule_set is None:
        return None
    if practical_score is None:
        practical_score = evaluation.practical_score
    facts = caregiver_facts(caregiver=evaluation.caregiver, rule_set=rule_set)
    return star_level_compute(facts=facts, rule_set=rule_set, practical_score=practical_score)
