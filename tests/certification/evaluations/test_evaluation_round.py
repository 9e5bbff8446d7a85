"""Re-evaluation rounds: who is taken in, who may open one, how progress is counted, certificates of a round."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import ModelLogEntry

from accounts.models import Role
from certification.certificates import services as certificates
from certification.evaluations import selectors, services
from certification.models import Certificate, Evaluation, EvaluationRound
from tests.factories.accounts import CaregiverFactory, CountyFactory, InstitutionFactory, UserFactory, manager_for
from tests.factories.certification import decided_evaluation_for

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
CLOSES = TODAY + datetime.timedelta(days=90)


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def evaluated_caregivers(evaluation_round: EvaluationRound) -> set[int]:
    return set(evaluation_round.evaluations.values_list("caregiver_id", flat=True))


def test_a_round_for_an_institution_takes_in_its_caregivers_only(administrator):
    home = InstitutionFactory(name="城区康养中心")
    staff = [CaregiverFactory(institution=home) for _ in range(3)]
    CaregiverFactory()

    evaluation_round = services.round_open(
        actor=administrator, name="2026年城区复评", closes_on=CLOSES, institution=home
    )

    assert evaluated_caregivers(evaluation_round) == {caregiver.pk for caregiver in staff}
    assert set(evaluation_round.evaluations.values_list("source", "status", "requested_by")) == {
        (Evaluation.Source.ROUND, Evaluation.Status.APPLIED, administrator.pk)
    }
    entry = ModelLogEntry.objects.get(action="carestar.round.open", object_id=str(evaluation_round.pk))
    assert entry.data["after"]["evaluations"] == 3


def test_a_round_for_a_county_takes_in_every_institution_of_the_county(administrator):
    county = CountyFactory(name="泽州县")
    inside = [CaregiverFactory(institution=InstitutionFactory(county=county)) for _ in range(2)]
    CaregiverFactory(institution=InstitutionFactory(county=CountyFactory(name="高平市")))

    evaluation_round = services.round_open(actor=administrator, name="泽州县复评", closes_on=CLOSES, county=county)

    assert evaluated_caregivers(evaluation_round) == {caregiver.pk for caregiver in inside}
    assert evaluation_round.county == county and evaluation_round.institution is None


def test_due_by_takes_in_only_those_whose_re_evaluation_falls_due_by_then(administrator, assessor, rules):
    home = InstitutionFactory()
    due_soon, due_later, never_rated = (CaregiverFactory(institution=home) for _ in range(3))
    decided_evaluation_for(caregiver=due_soon, assessor=assessor, rule_set=rules, re_evaluation_due_on=days(20))
    decided_evaluation_for(caregiver=due_later, assessor=assessor, rule_set=rules, re_evaluation_due_on=days(400))

    evaluation_round = services.round_open(
        actor=administrator, name="到期复评", closes_on=CLOSES, institution=home, due_by=days(60)
    )

    assert evaluated_caregivers(evaluation_round) == {due_soon.pk}
    assert never_rated.evaluations.count() == 0


def test_the_due_date_of_the_decision_in_force_counts_not_an_older_one(administrator, assessor, rules):
    caregiver = CaregiverFactory()
    decided_evaluation_for(
        caregiver=caregiver,
        assessor=assessor,
        rule_set=rules,
        re_evaluation_due_on=days(10),
        decided_at=timezone.now() - datetime.timedelta(days=700),
    )
    decided_evaluation_for(caregiver=caregiver, assessor=assessor, rule_set=rules, re_evaluation_due_on=days(700))

    with pytest.raises(ValidationError):
        services.round_open(
            actor=administrator, name="复评", closes_on=CLOSES, institution=caregiver.institution, due_by=days(60)
        )


def test_caregivers_with_an_evaluation_open_are_skipped(administrator):
    home = InstitutionFactory()
    busy, free = CaregiverFactory(institution=home), CaregiverFactory(institution=home)
    applied = services.evaluation_apply(caregiver=busy)

    evaluation_round = services.round_open(actor=administrator, name="复评", closes_on=CLOSES, institution=home)

    assert evaluated_caregivers(evaluation_round) == {free.pk}
    applied.refresh_from_db()
    assert applied.round_id is None and applied.source == Evaluation.Source.APPLICATION


def test_a_round_with_no_one_to_evaluate_is_refused_and_writes_nothing(administrator):
    home = InstitutionFactory()
    services.evaluation_apply(caregiver=CaregiverFactory(institution=home))

    with pytest.raises(ValidationError) as refused:
        services.round_open(actor=administrator, name="空批次", closes_on=CLOSES, institution=home)

    assert refused.value.messages == ["该范围内没有需要评定的护理员。"]
    assert not EvaluationRound.objects.exists()


def test_a_round_must_have_one_scope_and_a_closing_date_to_come(administrator):
    home = InstitutionFactory()
    CaregiverFactory(institution=home)
    with pytest.raises(ValidationError):
        services.round_open(actor=administrator, name="复评", closes_on=CLOSES)
    with pytest.raises(ValidationError):
        services.round_open(actor=administrator, name="复评", closes_on=CLOSES, institution=home, county=home.county)
    with pytest.raises(ValidationError):
        services.round_open(actor=administrator, name="复评", closes_on=days(-1), institution=home)
    assert not EvaluationRound.objects.exists() and not Evaluation.objects.exists()


def test_a_manager_opens_rounds_for_their_own_institution_only():
    own, other = InstitutionFactory(), InstitutionFactory()
    own_staff, other_staff = CaregiverFactory(institution=own), CaregiverFactory(institution=other)
    manager = manager_for(own)

    for scope in ({"institution": other}, {"county": own.county}):
        with pytest.raises(PermissionDenied):
            services.round_open(actor=manager, name="越权", closes_on=CLOSES, **scope)
    with pytest.raises(PermissionDenied):
        services.round_open(actor=own_staff.user, name="越权", closes_on=CLOSES, institution=own)
    assert not Evaluation.objects.exists()

    evaluation_round = services.round_open(actor=manager, name="本机构复评", closes_on=CLOSES, institution=own)
    assert evaluated_caregivers(evaluation_round) == {own_staff.pk}
    assert other_staff.evaluations.count() == 0


def test_a_manager_who_left_the_role_may_not_open_one():
    home = InstitutionFactory()
    CaregiverFactory(institution=home)
    former = UserFactory(role=Role.MANAGER, institution=home, is_active=False)
    with pytest.raises(PermissionDenied):
        services.round_open(actor=former, name="复评", closes_on=CLOSES, institution=home)


def test_progress_follows_the_evaluations_as_they_advance(
    administrator, assessor, reviewer, rules, django_capture_on_commit_callbacks
):
    home = InstitutionFactory()
    for _ in range(3):
        CaregiverFactory(institution=home)
    evaluation_round = services.round_open(actor=administrator, name="复评", closes_on=CLOSES, institution=home)
    first, second, third = evaluation_round.evaluations.order_by("pk")

    def progress():
        return selectors.round_progress(evaluation_round=evaluation_round)

    assert progress()["by_status"][Evaluation.Status.APPLIED] == 3
    assert (progress()["decided"], progress()["percent"], progress()["done"]) == (0, 0, False)

    services.evaluation_assign(evaluation=first, assessor=assessor, actor=administrator)
    assert progress()["by_status"][Evaluation.Status.ASSIGNED] == 1
    services.evaluation_propose(evaluation=first, assessor=assessor, practical_score=50, level=0)
    assert progress()["by_status"][Evaluation.Status.PROPOSED] == 1
    with django_capture_on_commit_callbacks(execute=False):
        services.evaluation_confirm(evaluation=first, reviewer=reviewer)
    assert (progress()["decided"], progress()["percent"]) == (1, 33)

    services.evaluation_withdraw(evaluation=second, actor=administrator, reason="已离职")
    after = progress()
    assert after["by_status"][Evaluation.Status.WITHDRAWN] == 1
    assert after["by_status"][Evaluation.Status.APPLIED] == 1
    assert (after["total"], after["decided"], after["percent"], after["done"]) == (3, 1, 67, False)

    [listed] = selectors.rounds_with_progress(viewer=administrator)
    assert (listed.total, listed.decided, listed.closed) == (3, 1, 2)
    assert third.status == Evaluation.Status.APPLIED


def test_the_rounds_list_is_one_query_and_scoped_to_the_manager(administrator):
    own, other = InstitutionFactory(), InstitutionFactory()
    for institution in (own, other):
        CaregiverFactory(institution=institution)
        services.round_open(
            actor=administrator, name=f"{institution.name}复评", closes_on=CLOSES, institution=institution
        )
    county = CountyFactory(name="阳城县")
    CaregiverFactory(institution=InstitutionFactory(county=county))
    services.round_open(actor=administrator, name="阳城县复评", closes_on=CLOSES, county=county)

    with CaptureQueriesContext(connection) as queries:
        rounds = list(selectors.rounds_with_progress(viewer=administrator))
        shown = [(r.name, str(r.institution or r.county), r.opened_by.name, r.total) for r in rounds]
    assert len(queries.captured_queries) == 1
    assert len(shown) == 3 and all(total == 1 for *_, total in shown)

    manager_rounds = selectors.rounds_with_progress(viewer=manager_for(own))
    assert [r.institution_id for r in manager_rounds] == [own.pk]


def test_a_rounds_certificate_batch_issues_only_its_decisions_in_force_with_stars(
    administrator, assessor, rules, django_capture_on_commit_callbacks
):
    home = InstitutionFactory()
    rated, no_star, overtaken, still_open = (CaregiverFactory(institution=home) for _ in range(4))
    elsewhere = CaregiverFactory()
    evaluation_round = services.round_open(actor=administrator, name="复评", closes_on=CLOSES, institution=home)
    earlier = timezone.now() - datetime.timedelta(days=1)

    def decide(caregiver, level, **fields):
        return decided_evaluation_for(caregiver=caregiver, assessor=assessor, rule_set=rules, level=level, **fields)

    in_force = decide(rated, 2, round=evaluation_round)
    decide(no_star, 0, round=evaluation_round)
    decide(overtaken, 2, round=evaluation_round, decided_at=earlier)
    decide(overtaken, 1)  # a later decision outside the round (a downgrade) is the one in force
    decide(elsewhere, 3)
    assert still_open.evaluations.get().round == evaluation_round

    with django_capture_on_commit_callbacks(execute=True):
        batch = certificates.certificate_batch_create(
            actor=administrator, name="复评证书", round_id=evaluation_round.pk
        )

    assert list(batch.items.values_list("evaluation_id", flat=True)) == [in_force.pk]
    assert batch.round == evaluation_round
    issued = Certificate.objects.issued().get()
    assert (issued.evaluation_id, issued.star_level) == (in_force.pk, 2)
    with pytest.raises(ValidationError):
        certificates.certificate_batch_create(actor=administrator, name="再来一次", round_id=evaluation_round.pk)
