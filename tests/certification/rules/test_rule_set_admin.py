"""Star-level rule sets in the admin: a ladder must rise, a version used is frozen, a copy makes the next version."""

import datetime
import html
from decimal import Decimal

import bs4
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from accounts import services as account_services
from accounts.models import Role
from certification.models import StarLevelRule, StarRuleSet
from tests.factories.accounts import CaregiverFactory
from tests.factories.certification import decided_evaluation_for, rule_set
from tests.factories.training import course_with_lessons, training_body_with_index

pytestmark = pytest.mark.django_db


@pytest.fixture
def bureau(client, administrator):
    administrator.groups.add(account_services.role_groups_ensure()[Role.ADMINISTRATOR])
    client.force_login(administrator)
    return client


@pytest.fixture
def courses(db):
    _body, index = training_body_with_index()
    return course_with_lessons(index, slug="basic", lessons=1), course_with_lessons(index, slug="care", lessons=1)


def level(number: int, *, rule_id="", **criteria) -> dict:
    """A level asking a little more than the one below it in hours and scores, unless told otherwise."""
    values = {
        "id": rule_id,
        "level": number,
        "min_training_hours": 10 * number,
        "min_theory_score": 55 + 5 * number,
        "min_practical_score": 55 + 5 * number,
        "min_years_of_service": 0,
        "min_satisfaction_rate": 0,
        "max_substantiated_complaints": "",
        "min_practitioner_level": 0,
        "required_courses": (),
        "barred_by_liability_accident": "on",
        "barred_by_ethics_breach": "on",
    }
    values.update(criteria)
    return values


def rule_set_form(levels: list[dict], *, version: str = "1", initial: int = 0) -> dict:
    return nested_form_data(
        {
            "name": "晋城市护理员星级评定",
            "version": version,
            "effective_from": "2025-01-01",
            "training_hours_window_years": "",
            "service_window_months": 12,
            "disqualifier_window_years": 3,
            "appeal_window_days": 30,
            "re_evaluation_months": 24,
            "notes": "",
            "levels": inline_formset(levels, initial=initial, min=1, max=5),
        }
    )


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def form_values(response) -> dict:
    """What the browser would send back from the admin's editor form, as it stands."""
    form = bs4.BeautifulSoup(response.content.decode(), "html.parser").find("form", id="w-editor-form")
    values: dict = {}
    for field in form.find_all(["input", "select", "textarea"]):
        name = field.get("name")
        if not name or field.get("type") in ("submit", "button"):
            continue
        if field.name == "select":
            chosen = [option.get("value") for option in field.find_all("option") if option.has_attr("selected")]
            values[name] = chosen if field.has_attr("multiple") else (chosen[0] if chosen else "")
        elif field.get("type") in ("checkbox", "radio"):
            if field.has_attr("checked"):
                values.setdefault(name, []).append(field.get("value", "on"))
        elif field.name == "textarea":
            values[name] = field.text.strip("\n")
        else:
            values[name] = field.get("value", "")
    return values


def test_a_rising_ladder_is_saved_with_the_courses_each_level_requires(bureau, courses):
    basic, care = courses
    response = bureau.post(
        "/admin/starruleset/new/",
        rule_set_form(
            [
                level(1, required_courses=(basic.pk,), max_substantiated_complaints=3),
                level(2, required_courses=(basic.pk, care.pk), max_substantiated_complaints=1),
            ]
        ),
    )
    assert response.status_code == 302, page_text(response)[:3000]
    saved = StarRuleSet.objects.get()
    assert {rule.level: set(rule.required_courses.values_list("pk", flat=True)) for rule in saved.levels.all()} == {
        1: {basic.pk},
        2: {basic.pk, care.pk},
    }


def test_the_course_chooser_offers_published_courses_as_checkboxes(bureau, courses):
    basic, care = courses
    care.unpublish()
    page = page_text(bureau.get("/admin/starruleset/new/"))
    assert 'type="checkbox" name="levels-0-required_courses"' in page
    assert basic.title in page and care.title not in page


LOOSER_ABOVE = [
    ("training hours", "学时", {"min_training_hours": 5}),
    ("theory score", "理论考试成绩", {"min_theory_score": 50}),
    ("practical score", "实操考核成绩", {"min_practical_score": 50}),
    ("years of service", "从业年限", {"min_years_of_service": 0}),
    ("satisfaction rate", "服务满意率", {"min_satisfaction_rate": 80}),
    ("practitioner level", "长期照护师等级", {"min_practitioner_level": 5}),
    ("complaints", "允许的投诉数", {"max_substantiated_complaints": ""}),
    ("required courses", "必修课程", {"required_courses": ()}),
    ("liability accident bar", "责任事故否决项", {"barred_by_liability_accident": ""}),
    ("ethics breach bar", "职业道德否决项", {"barred_by_ethics_breach": ""}),
]


@pytest.mark.parametrize(("kind", "label", "level_two"), LOOSER_ABOVE, ids=[kind for kind, _l, _v in LOOSER_ABOVE])
def test_a_level_asking_less_than_the_one_below_is_refused(bureau, courses, kind, label, level_two):
    basic, _care = courses
    level_one = level(
        1,
        min_years_of_service=1,
        min_satisfaction_rate=90,
        min_practitioner_level=4,
        max_substantiated_complaints=2,
        required_courses=(basic.pk,),
    )
    higher = level(
        2,
        min_years_of_service=2,
        min_satisfaction_rate=95,
        min_practitioner_level=3,
        max_substantiated_complaints=1,
        required_courses=(basic.pk,),
    )
    higher.update(level_two)
    response = bureau.post("/admin/starruleset/new/", rule_set_form([level_one, higher]))
    assert response.status_code == 200
    assert f"2 星在“{label}”上的要求低于 1 星。" in page_text(response)
    assert not StarRuleSet.objects.exists() and not StarLevelRule.objects.exists()


@pytest.mark.parametrize("numbers", [(1, 3), (1, 1), (2, 3)], ids=["gap", "duplicate", "not-from-one"])
def test_levels_must_run_from_one_without_gaps_or_repeats(bureau, numbers):
    response = bureau.post("/admin/starruleset/new/", rule_set_form([level(number) for number in numbers]))
    assert response.status_code == 200
    assert "星级须从 1 星起连续设置，不得跳级或重复。" in page_text(response)
    assert not StarRuleSet.objects.exists()


def test_a_level_asking_nothing_more_is_refused(bureau):
    same = {"min_training_hours": 10, "min_theory_score": 60, "min_practical_score": 60}
    response = bureau.post("/admin/starruleset/new/", rule_set_form([level(1, **same), level(2, **same)]))
    assert "2 星的要求没有任何一项高于 1 星。" in page_text(response)
    assert not StarRuleSet.objects.exists()


@pytest.fixture
def used_rules(rules):
    decided_evaluation_for(caregiver=CaregiverFactory(), assessor=None, rule_set=rules)
    return rules


def test_a_version_used_by_an_evaluation_is_frozen(bureau, used_rules):
    levels = list(used_rules.levels.all())
    page = bureau.get(f"/admin/starruleset/edit/{used_rules.pk}/")
    assert "已被 1 项星级评定使用" in page_text(page)
    assert f"/admin/starruleset/copy/{used_rules.pk}/" in page_text(page)

    data = rule_set_form(
        [level(rule.level, rule_id=rule.pk, min_training_hours=rule.min_training_hours + 1) for rule in levels],
        initial=len(levels),
    )
    data["name"], data["version"] = used_rules.name, used_rules.version
    response = bureau.post(f"/admin/starruleset/edit/{used_rules.pk}/", data)
    assert response.status_code == 200
    assert "复制为新版本后修改副本" in page_text(response)
    assert [rule.min_training_hours for rule in used_rules.levels.all()] == [rule.min_training_hours for rule in levels]

    # It cannot be deleted either: not offered, and refused with a message if asked for.
    response = bureau.get(f"/admin/starruleset/delete/{used_rules.pk}/", follow=True)
    assert "无法删除" in page_text(response)
    assert bureau.post(f"/admin/starruleset/delete/{used_rules.pk}/").status_code == 302
    assert StarRuleSet.objects.filter(pk=used_rules.pk).exists()


def test_an_unused_version_can_still_be_edited_and_deleted(bureau, rules):
    levels = list(rules.levels.all())
    data = rule_set_form(
        [level(rule.level, rule_id=rule.pk, min_training_hours=10 * rule.level + 5) for rule in levels],
        initial=len(levels),
    )
    data["name"], data["version"] = rules.name, rules.version
    assert bureau.post(f"/admin/starruleset/edit/{rules.pk}/", data).status_code == 302
    assert [rule.min_training_hours for rule in rules.levels.all()] == [Decimal("15"), Decimal("25"), Decimal("35")]
    assert bureau.post(f"/admin/starruleset/delete/{rules.pk}/").status_code == 302
    assert not StarRuleSet.objects.exists()


def test_copying_makes_an_editable_next_version_with_the_same_criteria(bureau, used_rules, courses):
    basic, _care = courses
    top = used_rules.levels.get(level=3)
    top.required_courses.add(basic)
    top.save()
    page = bureau.get(f"/admin/starruleset/copy/{used_rules.pk}/")
    values = form_values(page)
    assert values["version"] == "2"
    assert values["effective_from"] > timezone.localdate().isoformat()
    # Sent back as it stands, the copy is created beside the original, which keeps its levels.
    response = bureau.post("/admin/starruleset/new/", values)
    assert response.status_code == 302, page_text(response)[:3000]
    copy = StarRuleSet.objects.get(name=used_rules.name, version="2")
    assert [(rule.level, rule.min_training_hours) for rule in copy.levels.all()] == [
        (rule.level, rule.min_training_hours) for rule in used_rules.levels.all()
    ]
    assert list(copy.levels.get(level=3).required_courses.all()) == [basic]
    assert used_rules.levels.count() == 3 and list(top.required_courses.all()) == [basic]

    # The copy is a new version no one has used: it can change.
    edit = form_values(bureau.get(f"/admin/starruleset/edit/{copy.pk}/"))
    edit["levels-2-min_training_hours"] = "80"
    assert bureau.post(f"/admin/starruleset/edit/{copy.pk}/", edit).status_code == 302
    assert copy.levels.get(level=3).min_training_hours == Decimal("80")
    assert used_rules.levels.get(level=3).min_training_hours == Decimal("60")


def test_the_listing_shows_the_version_in_force_and_how_often_each_was_used(bureau, used_rules):
    today = timezone.localdate()
    later = rule_set(version="2", effective_from=today + datetime.timedelta(days=30))
    page = page_text(bureau.get("/admin/starruleset/"))
    rows = {row.split("</tr>")[0] for row in page.split("<tr")[1:]}
    in_force = next(row for row in rows if f"/admin/starruleset/edit/{used_rules.pk}/" in row)
    scheduled = next(row for row in rows if f"/admin/starruleset/edit/{later.pk}/" in row)
    assert "现行有效" in in_force and "现行有效" not in scheduled
    assert f"自 {later.effective_from.isoformat()} 起" in scheduled
    assert f"/admin/starruleset/delete/{used_rules.pk}/" not in page
    assert f"/admin/starruleset/delete/{later.pk}/" in page


def test_the_rule_set_list_costs_the_same_number_of_queries_however_many_versions(bureau, used_rules):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert bureau.get("/admin/starruleset/").status_code == 200
        return len(captured)

    few = queries()
    for version in range(2, 6):
        decided_evaluation_for(caregiver=CaregiverFactory(), assessor=None, rule_set=rule_set(version=str(version)))
    assert queries() == few
