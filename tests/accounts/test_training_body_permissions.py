"""A training body edits its own course subtree in the Wagtail admin, submits for approval, and nothing more."""

import pytest
from wagtail.models import WorkflowState
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from accounts import services as account_services
from accounts.models import Role
from tests.factories.training import course_with_lessons, training_body_with_index
from training.models import CoursePage

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_bodies(db):
    account_services.role_groups_ensure()
    body_a, index_a = training_body_with_index("TB-A", "甲培训学校")
    body_b, index_b = training_body_with_index("TB-B", "乙培训学校")
    trainer_a = account_services.user_create(
        username="trainer_a", password="pw", name="甲", role=Role.TRAINING_BODY, training_body=body_a
    )
    return index_a, index_b, trainer_a


def course_form(title: str, action: str) -> dict:
    data = nested_form_data(
        {
            "title": title,
            "slug": "new-course",
            "summary": "新课程",
            "objectives": rich_text("<p>目标</p>"),
            "hours": "2.0",
            "star_level_min": "1",
            "star_level_max": "5",
            "comments": inline_formset([]),
        }
    )
    data[action] = action
    return data


def test_trainer_may_add_courses_only_under_own_index(client, two_bodies):
    index_a, index_b, trainer_a = two_bodies
    client.force_login(trainer_a)
    assert client.get(f"/admin/pages/add/training/coursepage/{index_a.pk}/").status_code == 200
    foreign = client.get(f"/admin/pages/add/training/coursepage/{index_b.pk}/")
    assert foreign.status_code in (302, 403)
    assert not foreign.headers.get("Location", "").startswith(f"/admin/pages/add/training/coursepage/{index_b.pk}")

    client.post(f"/admin/pages/add/training/coursepage/{index_b.pk}/", course_form("越权课程", "action-publish"))
    assert not CoursePage.objects.filter(title="越权课程").exists()


def test_trainer_cannot_edit_another_bodys_course(client, two_bodies):
    index_a, index_b, trainer_a = two_bodies
    foreign_course = course_with_lessons(index_b, slug="b-course")
    client.force_login(trainer_a)
    response = client.get(f"/admin/pages/{foreign_course.pk}/edit/")
    assert response.status_code in (302, 403)
    own_course = course_with_lessons(index_a, slug="a-course")
    assert client.get(f"/admin/pages/{own_course.pk}/edit/").status_code == 200


def test_trainer_cannot_publish_and_submits_for_approval(client, two_bodies):
    index_a, _index_b, trainer_a = two_bodies
    client.force_login(trainer_a)
    client.post(f"/admin/pages/add/training/coursepage/{index_a.pk}/", course_form("草稿课程", "action-publish"))
    draft = CoursePage.objects.get(title="草稿课程")
    assert draft.live is False

    response = client.post(
        f"/admin/pages/add/training/coursepage/{index_a.pk}/",
        {**course_form("待审课程", "action-submit"), "slug": "submitted-course"},
    )
    assert response.status_code == 302
    submitted = CoursePage.objects.get(title="待审课程")
    assert submitted.live is False
    state = WorkflowState.objects.get(base_content_type__model="page", object_id=str(submitted.pk))
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    approvers = state.current_task_state.task.specific.groups.values_list("name", flat=True)
    assert list(approvers) == [account_services.ADMINISTRATORS_GROUP]


def test_trainer_cannot_reach_care_standards_or_certificates(client, two_bodies):
    _index_a, _index_b, trainer_a = two_bodies
    client.force_login(trainer_a)
    for url in ("/admin/snippets/content/standard/", "/admin/users/"):
        assert client.get(url).status_code in (302, 403)
