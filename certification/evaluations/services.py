"""The only writers of evaluations, appeals and rounds: every transition checks its guards and is audited.

Flow: apply / nominate / round → assign an assessor → the assessor proposes a level (at most the computed one;
lower only with a reason) → a second reviewer confirms or returns it → decided → certificate queued, caregiver
told. A decided evaluation never changes: appeals and downgrades that change the level are new evaluations.
"""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from accounts.conflicts import assessor_conflict
from accounts.models import CaregiverProfile, County, Institution, Role, User

from ..dates import months_after
from ..rules.eligibility import Eligibility, rule_set_current
from .models import Appeal, Evaluation, EvaluationRound
from .selectors import decision_current, evaluation_eligibility


def _state(evaluation: Evaluation) -> dict:
    """What the audit log records before and after a transition."""
    return {
        "status": evaluation.status,
        "assessor": evaluation.assessor_id,
        "reviewer": evaluation.reviewer_id,
        "rule_set": evaluation.rule_set_id,
        "practical_score": evaluation.practical_score,
        "computed_level": evaluation.computed_level,
        "level": evaluation.level,
    }


def _locked(evaluation: Evaluation) -> Evaluation:
    # Lock the evaluation row only: PostgreSQL refuses FOR UPDATE on the nullable side of the rule set's outer join.
    return (
        Evaluation.objects.select_for_update(of=("self",))
        .select_related("caregiver__user", "caregiver__institution", "rule_set")
        .get(pk=evaluation.pk)
    )


def _require_status(evaluation: Evaluation, *statuses) -> None:
    if evaluation.status not in statuses:
        raise ValidationError(
            _("This evaluation is %(status)s; that step is not possible now.")
            % {"status": evaluation.get_status_display()}
        )


def _open(
    *, caregiver: CaregiverProfile, source: str, requested_by: User | None, note: str = "", round=None
) -> Evaluation:
    try:
        with transaction.atomic():
            evaluation = Evaluation.objects.create(
                caregiver=caregiver, source=source, requested_by=requested_by, request_note=note.strip(), round=round
            )
    except IntegrityError:
        in_progress = Evaluation.objects.filter(caregiver=caregiver, status__in=Evaluation.OPEN_STATUSES).first()
        raise ValidationError(
            _("This caregiver already has an evaluation in progress."),
            code="in_progress",
            params={"status": in_progress.get_status_display() if in_progress else ""},
        )
    log(evaluation, "carestar.evaluation.open", user=requested_by, data={"before": None, "after": _state(evaluation)})
    return evaluation


def evaluation_apply(*, caregiver: CaregiverProfile, note: str = "") -> Evaluation:
    """The caregiver applies for a star evaluation (or a re-evaluation of their level)."""
    with transaction.atomic():
        return _open(caregiver=caregiver, source=Evaluation.Source.APPLICATION, requested_by=caregiver.user, note=note)


def evaluation_nominate(*, manager: User, caregiver: CaregiverProfile, note: str = "") -> Evaluation:
    """An institution manager puts one of their own staff forward."""
    if not manager.has_role(Role.MANAGER) or manager.institution_id != caregiver.institution_id:
        raise PermissionDenied(_("Managers nominate staff of their own institution only."))
    with transaction.atomic():
        return _open(caregiver=caregiver, source=Evaluation.Source.NOMINATION, requested_by=manager, note=note)


def evaluation_assign(*, evaluation: Evaluation, assessor: User, actor: User) -> Evaluation:
    if not actor.is_administrator:
        raise PermissionDenied(_("Only administrators assign assessors."))
    if not assessor.has_role(Role.ASSESSOR):
        raise ValidationError(_("%(name)s is not an assessor.") % {"name": assessor.get_full_name()})
    with transaction.atomic():
        evaluation = _locked(evaluation)
        _require_status(evaluation, Evaluation.Status.APPLIED, Evaluation.Status.ASSIGNED, Evaluation.Status.RETURNED)
        conflict = assessor_conflict(assessor=assessor, caregiver=evaluation.caregiver)
        if conflict:
            raise ValidationError(conflict)
        before = _state(evaluation)
        evaluation.assessor = assessor
        evaluation.assigned_at = timezone.now()
        if evaluation.status == Evaluation.Status.APPLIED:
            evaluation.status = Evaluation.Status.ASSIGNED
        evaluation.save(update_fields=["assessor", "assigned_at", "status"])
        log(evaluation, "carestar.evaluation.assign", user=actor, data={"before": before, "after": _state(evaluation)})
    return evaluation


def _check_level(*, eligibility: Eligibility, level: int, reason: str) -> None:
    if not 0 <= level <= eligibility.computed_level:
        raise ValidationError(
            _("The level may not exceed the computed level of %(level)s stars.") % {"level": eligibility.computed_level}
        )
    if level < eligibility.computed_level and not reason.strip():
        raise ValidationError(_("Give a written reason for awarding less than the computed level."))


def evaluation_propose(
    *,
    evaluation: Evaluation,
    assessor: User,
    practical_score: int,
    level: int,
    reason: str = "",
    observations: str = "",
) -> Evaluation:
    """The assigned assessor records the practical score and observations and proposes a level."""
    if not 0 <= practical_score <= 100:
        raise ValidationError(_("The practical score is a number from 0 to 100."))
    with transaction.atomic():
        evaluation = _locked(evaluation)
        if evaluation.assessor_id != assessor.pk:
            raise PermissionDenied(_("Only the assessor assigned to this evaluation may propose a level."))
        _require_status(evaluation, Evaluation.Status.ASSIGNED, Evaluation.Status.RETURNED)
        conflict = assessor_conflict(assessor=assessor, caregiver=evaluation.caregiver)
        if conflict:
            raise PermissionDenied(conflict)
        rule_set = rule_set_current()
        if rule_set is None:
            raise ValidationError(_("No star-level rule set is in force."))
        eligibility = evaluation_eligibility(evaluation=evaluation, practical_score=practical_score, rule_set=rule_set)
        _check_level(eligibility=eligibility, level=level, reason=reason)
        before = _state(evaluation)
        evaluation.rule_set = rule_set
        evaluation.practical_score = practical_score
        evaluation.observations = observations.strip()
        evaluation.computed_level = eligibility.computed_level
        evaluation.level = level
        evaluation.reason = reason.strip() if level < eligibility.computed_level else ""
        evaluation.criteria_snapshot = eligibility.as_snapshot()
        evaluation.proposed_at = timezone.now()
        evaluation.status = Evaluation.Status.PROPOSED
        evaluation.save()
        log(
            evaluation,
            "carestar.evaluation.propose",
            user=assessor,
            data={"before": before, "after": _state(evaluation)},
        )
    return evaluation


def reviewer_conflict(*, reviewer: User, evaluation: Evaluation) -> str | None:
    if not (reviewer.has_role(Role.ASSESSOR) or reviewer.is_administrator):
        return _("Only assessors and administrators review evaluations.")
    if reviewer.pk == evaluation.assessor_id:
        return _("No one may review their own proposal.")
    return assessor_conflict(assessor=reviewer, caregiver=evaluation.caregiver)


def evaluation_return(*, evaluation: Evaluation, reviewer: User, note: str) -> Evaluation:
    """The reviewer sends the proposal back to the assessor with what must change."""
    if not note.strip():
        raise ValidationError(_("Say why the proposal goes back to the assessor."))
    with transaction.atomic():
        evaluation = _locked(evaluation)
        _require_status(evaluation, Evaluation.Status.PROPOSED)
        conflict = reviewer_conflict(reviewer=reviewer, evaluation=evaluation)
        if conflict:
            raise PermissionDenied(conflict)
        before = _state(evaluation)
        evaluation.status = Evaluation.Status.RETURNED
        evaluation.review_note = note.strip()
        evaluation.save(update_fields=["status", "review_note"])
        log(
            evaluation,
            "carestar.evaluation.return",
            user=reviewer,
            data={"before": before, "after": _state(evaluation)},
        )
    return evaluation


def _decide(evaluation: Evaluation, *, decided_at) -> None:
    rule_set = evaluation.rule_set
    evaluation.status = Evaluation.Status.DECIDED
    evaluation.decided_at = decided_at
    today = timezone.localdate(decided_at)
    evaluation.appeal_until = today + datetime.timedelta(days=rule_set.appeal_window_days)
    evaluation.re_evaluation_due_on = months_after(today, rule_set.re_evaluation_months) if evaluation.level else None


def _after_decision(evaluation: Evaluation) -> None:
    """On commit: the certificate (or its withdrawal, at level 0) and the caregiver's notice."""
    from ..certificates.tasks import certificate_issue_task
    from .tasks import evaluation_notify_task

    transaction.on_commit(lambda: certificate_issue_task.delay(evaluation.pk))
    transaction.on_commit(lambda: evaluation_notify_task.delay(evaluation.pk))


def evaluation_confirm(*, evaluation: Evaluation, reviewer: User, note: str = "") -> Evaluation:
    """The second reviewer confirms the proposal: the decision is made and can no longer change."""
    with transaction.atomic():
        evaluation = _locked(evaluation)
        _require_status(evaluation, Evaluation.Status.PROPOSED)
        conflict = reviewer_conflict(reviewer=reviewer, evaluation=evaluation)
        if conflict:
            raise PermissionDenied(conflict)
        # The record may have changed since the proposal (a complaint came in): never confirm above it.
        eligibility = evaluation_eligibility(evaluation=evaluation)
        if evaluation.level > eligibility.computed_level:
            raise ValidationError(
                _(
                    "The caregiver's record has changed since the proposal: it now supports %(level)s stars. "
                    "Return the proposal to the assessor."
                )
                % {"level": eligibility.computed_level}
            )
        before = _state(evaluation)
        evaluation.reviewer = reviewer
        evaluation.review_note = note.strip()
        _decide(evaluation, decided_at=timezone.now())
        evaluation.save()
        log(
            evaluation,
            "carestar.evaluation.decide",
            user=reviewer,
            data={"before": before, "after": _state(evaluation)},
        )
        _after_decision(evaluation)
    return evaluation


def evaluation_withdraw(*, evaluation: Evaluation, actor: User, reason: str = "") -> Evaluation:
    with transaction.atomic():
        evaluation = _locked(evaluation)
        _require_status(evaluation, *Evaluation.OPEN_STATUSES)
        own = evaluation.caregiver.user_id == actor.pk and evaluation.source == Evaluation.Source.APPLICATION
        if not (own or actor.is_administrator):
            raise PermissionDenied(_("Only the applicant or an administrator may withdraw an evaluation."))
        before = _state(evaluation)
        evaluation.status = Evaluation.Status.WITHDRAWN
        evaluation.review_note = reason.strip()
        evaluation.save(update_fields=["status", "review_note"])
        log(
            evaluation, "carestar.evaluation.withdraw", user=actor, data={"before": before, "after": _state(evaluation)}
        )
    return evaluation


# --- Appeals -------------------------------------------------------------------------------------------


def appeal_file(*, evaluation: Evaluation, user: User, grounds: str) -> Appeal:
    if evaluation.caregiver.user_id != user.pk:
        raise PermissionDenied(_("Only the caregiver evaluated may appeal the decision."))
    if not grounds.strip():
        raise ValidationError(_("Give the grounds of the appeal."))
    with transaction.atomic():
        evaluation = _locked(evaluation)
        _require_status(evaluation, Evaluation.Status.DECIDED)
        if timezone.localdate() > evaluation.appeal_until:
            raise ValidationError(
                _("The appeal window closed on %(date)s.") % {"date": evaluation.appeal_until.isoformat()}
            )
        current = decision_current(caregiver=evaluation.caregiver)
        if current.pk != evaluation.pk:
            raise ValidationError(_("Only the decision in force can be appealed."))
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(evaluation=evaluation, filed_by=user, grounds=grounds.strip())
        except IntegrityError:
            raise ValidationError(_("This decision has already been appealed."))
        log(appeal, "carestar.appeal.file", user=user, data={"before": None, "after": {"status": appeal.status}})
    return appeal


def _decided_revision(
    original: Evaluation,
    *,
    eligibility: Eligibility,
    level: int,
    source: str,
    reason: str,
    actor: User | None,
    action: str,
    cause: str | None = None,
    **fields,
) -> Evaluation:
    """A new decision that revises `original` under its rule set and practical score (an upheld appeal, a
    downgrade): decided at once, logged before → after, and followed by its certificate and notice."""
    revision = Evaluation(
        caregiver=original.caregiver,
        source=source,
        revises=original,
        rule_set=original.rule_set,
        practical_score=original.practical_score,
        computed_level=eligibility.computed_level,
        level=level,
        reason=reason,
        criteria_snapshot=eligibility.as_snapshot(),
        proposed_at=timezone.now(),
        **fields,
    )
    _decide(revision, decided_at=timezone.now())
    revision.save()
    data = {"before": _state(original), "after": _state(revision)}
    if cause is not None:
        data["cause"] = cause
    log(revision, action, user=actor, data=data)
    _after_decision(revision)
    return revision


def appeal_decide(*, appeal: Appeal, actor: User, upheld: bool, note: str, level: int | None = None) -> Appeal:
    """Someone other than the first assessor decides the appeal; upheld, it makes a new decision at `level`."""
    if not note.strip():
        raise ValidationError(_("Give the reasons for the appeal decision."))
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if appeal.status != Appeal.Status.OPEN:
            raise ValidationError(_("This appeal has already been decided."))
        original = Evaluation.objects.select_related("caregiver__user", "rule_set").get(pk=appeal.evaluation_id)
        if not actor.is_administrator:
            raise PermissionDenied(_("Appeals are decided by administrators."))
        if actor.pk == original.assessor_id:
            raise PermissionDenied(_("The first assessor may not decide an appeal against their own evaluation."))
        conflict = assessor_conflict(assessor=actor, caregiver=original.caregiver)
        if conflict:
            raise PermissionDenied(conflict)
        before = {"status": appeal.status}
        appeal.status = Appeal.Status.DISMISSED
        if upheld:
            if level is None or level == original.level:
                raise ValidationError(_("An upheld appeal changes the level: give the new level."))
            eligibility = evaluation_eligibility(evaluation=original)
            _check_level(eligibility=eligibility, level=level, reason=note)
            result = _decided_revision(
                original,
                eligibility=eligibility,
                level=level,
                source=Evaluation.Source.APPEAL,
                reason=note.strip() if level < eligibility.computed_level else "",
                actor=actor,
                action="carestar.evaluation.decide",
                round=original.round,
                requested_by=appeal.filed_by,
                request_note=appeal.grounds,
                assessor=original.assessor,
                observations=original.observations,
                reviewer=actor,
                review_note=note.strip(),
            )
            appeal.status = Appeal.Status.UPHELD
            appeal.result = result
        appeal.decided_by = actor
        appeal.decision_note = note.strip()
        appeal.decided_at = timezone.now()
        appeal.save()
        log(appeal, "carestar.appeal.decide", user=actor, data={"before": before, "after": {"status": appeal.status}})
    return appeal


# --- Downgrades ----------------------------------------------------------------------------------------


def downgrade_check(*, caregiver: CaregiverProfile, cause: str) -> Evaluation | None:
    """After a substantiated complaint or a disqualifier: lower the level the record no longer supports.

    The decision in force is re-checked under its own rule set with its own practical score; when the record
    now supports less, a downgrade decision is made at once (the caregiver may appeal it) and the certificate
    follows. Returns the new decision, or None when the level stands.
    """
    with transaction.atomic():
        CaregiverProfile.objects.select_for_update().filter(pk=caregiver.pk).first()
        current = decision_current(caregiver=caregiver)
        if current is None or not current.level:
            return None
        eligibility = evaluation_eligibility(evaluation=current)
        if eligibility.computed_level >= current.level:
            return None
        downgrade = _decided_revision(
            current,
            eligibility=eligibility,
            level=eligibility.computed_level,
            source=Evaluation.Source.DOWNGRADE,
            reason=cause,
            actor=None,
            action="carestar.evaluation.downgrade",
            cause=cause,
        )
    return downgrade


# --- Rounds --------------------------------------------------------------------------------------------


def round_open(
    *,
    actor: User,
    name: str,
    closes_on: datetime.date,
    institution: Institution | None = None,
    county: County | None = None,
    due_by: datetime.date | None = None,
) -> EvaluationRound:
    """Open evaluations at once for every caregiver of an institution or a county (only those whose
    re-evaluation falls due by `due_by`, when given) who has none in progress."""
    if (institution is None) == (county is None):
        raise ValidationError(_("Choose an institution or a county."))
    own_institution = (
        actor.has_role(Role.MANAGER) and institution is not None and actor.institution_id == institution.pk
    )
    if not (actor.is_administrator or own_institution):
        raise PermissionDenied(_("Managers open rounds for their own institution; administrators for any."))
    if closes_on < timezone.localdate():
        raise ValidationError(_("The closing date has already passed."))
    from .selectors import caregivers_in_scope

    with transaction.atomic():
        evaluation_round = EvaluationRound.objects.create(
            name=name.strip(), institution=institution, county=county, closes_on=closes_on, opened_by=actor
        )
        caregiver_ids = list(
            caregivers_in_scope(institution=institution, county=county, due_by=due_by)
            .exclude(evaluations__status__in=Evaluation.OPEN_STATUSES)
            .values_list("pk", flat=True)
        )
        if not caregiver_ids:
            raise ValidationError(_("No caregiver in this scope is waiting for an evaluation."))
        Evaluation.objects.bulk_create(
            [
                Evaluation(
                    caregiver_id=caregiver_id,
                    source=Evaluation.Source.ROUND,
                    requested_by=actor,
                    round=evaluation_round,
                )
                for caregiver_id in caregiver_ids
            ],
            batch_size=1000,
        )
        log(
            evaluation_round,
            "carestar.round.open",
            user=actor,
            data={"before": None, "after": {"evaluations": len(caregiver_ids), "closes_on": closes_on.isoformat()}},
        )
    return evaluation_round


NOTICE_NAMES_SHOWN = 20


def re_evaluation_due_remind(*, today: datetime.date | None = None) -> int:
    """Tell each institution's managers which of their staff fall due for re-evaluation soon (or are overdue).

    Once per caregiver and due date: the notice is recorded in the audit log against the decision in force,
    so a second run, a redelivered task or a retry tells no one twice. An institution without an active
    manager is left for a later day, when someone may be there to read it. Returns the caregivers notified.
    """
    from .. import notifications
    from .selectors import DUE_SOON_DAYS, RE_EVALUATION_NOTICE, re_evaluation_notices_pending

    today = today or timezone.localdate()
    institution_ids = sorted(
        set(re_evaluation_notices_pending(today=today).values_list("caregiver__institution_id", flat=True))
    )
    notified = 0
    for institution_id in institution_ids:
        with transaction.atomic():
            # The institution's row serialises two runs: the second finds the notices written and sends nothing.
            institution = Institution.objects.select_for_update().get(pk=institution_id)
            managers = list(User.objects.filter(role=Role.MANAGER, is_active=True, institution=institution))
            if not managers:
                continue
            decisions = list(
                re_evaluation_notices_pending(today=today).filter(caregiver__institution_id=institution_id)
            )
            if not decisions:
                continue
            names = "、".join(
                f"{decision.caregiver.name}（{decision.re_evaluation_due_on.isoformat()}）"
                for decision in decisions[:NOTICE_NAMES_SHOWN]
            )
            if len(decisions) > NOTICE_NAMES_SHOWN:
                names += _("and %(count)s more") % {"count": len(decisions) - NOTICE_NAMES_SHOWN}
            values = {
                "institution": institution.name,
                "count": len(decisions),
                "days": DUE_SOON_DAYS,
                "names": names,
                "url": f"{settings.WAGTAILADMIN_BASE_URL}{reverse('re_evaluation_due:index')}",
            }
            subject = _("%(institution)s: %(count)s star re-evaluations falling due") % values
            message = _(
                "%(count)s of your staff fall due for star re-evaluation within %(days)s days or are overdue: "
                "%(names)s. Nominate them, or open a re-evaluation round, from the due list: %(url)s"
            )
            for manager in managers:
                notifications.notify_user(user=manager, subject=subject, message=message % values)
            for decision in decisions:
                log(
                    decision,
                    RE_EVALUATION_NOTICE,
                    user=None,
                    data={
                        "due_on": decision.re_evaluation_due_on.isoformat(),
                        "managers": [manager.pk for manager in managers],
                    },
                )
            notified += len(decisions)
    return notified


# --- Notices -------------------------------------------------------------------------------------------


def evaluation_notify(*, evaluation_id: int) -> bool:
    """Tell the caregiver of a decision, once: the audit entry of the notice is what makes a resend a no-op."""
    from wagtail.models import ModelLogEntry

    from .. import notifications

    with transaction.atomic():
        evaluation = (
            Evaluation.objects.select_for_update()
            .select_related("caregiver__user")
            .get(pk=evaluation_id, status=Evaluation.Status.DECIDED)
        )
        already = ModelLogEntry.objects.filter(
            content_type__app_label="certification",
            content_type__model="evaluation",
            object_id=str(evaluation.pk),
            action="carestar.evaluation.notify",
        ).exists()
        if already:
            return False
        values = {
            "name": evaluation.caregiver.name,
            "level": evaluation.level,
            "until": evaluation.appeal_until.isoformat(),
        }
        if evaluation.level:
            message = _(
                "%(name)s, your star evaluation is decided: %(level)s stars. "
                "You may appeal until %(until)s. Your certificate follows."
            )
        else:
            message = _(
                "%(name)s, your star evaluation is decided: no star level is awarded. You may appeal until %(until)s."
            )
        notifications.notify_user(
            user=evaluation.caregiver.user, subject=_("Your star evaluation is decided"), message=message % values
        )
        log(evaluation, "carestar.evaluation.notify", user=None, data={"level": evaluation.level})
    return True
