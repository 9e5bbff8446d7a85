"""A training body edits its own course subtree in the Wagtail admin, submits for approval, and nothing more."""

import pytest
from wagtail.models import WorkflowState
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from accounts import services as account_services
from accounts.models import Role
from tests.factories.training import course_with_lessons, training_body_with_index
from training.models import CoursePage, LessonPage

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
    assert foreign.status_code == 302
    assert not foreign.headers.get("Location", "").startswith(f"/admin/pages/add/training/coursepage/{index_b.pk}")

    client.post(f"/admin/pages/add/training/coursepage/{index_b.pk}/", course_form("越权课程", "action-publish"))
    assert not CoursePage.objects.filter(title="越权课程").exists()


def test_trainer_cannot_edit_another_bodys_course(client, two_bodies):
    index_a, index_b, trainer_a = two_bodies
    foreign_course = course_with_lessons(index_b, slug="b-course")
    client.force_login(trainer_a)
    response = client.get(f"/admin/pages/{foreign_course.pk}/edit/")
    assert response.status_code == 302
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
        assert client.get(url).status_code == 302


def lesson_form(title: str, action: str, slug: str = "new-lesson") -> dict:
    from wagtail.test.utils.form_data import streamfield

    data = nested_form_data(
        {
            "title": title,
            "slug": slug,
            "minutes": "45",
            "body": streamfield([("paragraph", rich_text("<p>内容</p>"))]),
            "comments": inline_formset([]),
        }
    )
    data[action] = action
    return data


def test_trainer_cannot_browse_or_add_lessons_in_another_bodys_subtree(client, two_bodies):
    _index_a, index_b, trainer_a = two_bodies
    foreign_course = course_with_lessons(index_b, slug="b-course")
    client.force_login(trainer_a)
    explorer = client.get(f"/admin/pages/{index_b.pk}/")
    assert explorer.status_code == 302 or foreign_course.title not in explorer.content.decode()
    client.post(f"/admin/pages/add/training/lessonpage/{foreign_course.pk}/", lesson_form("越权课节", "action-submit"))
    assert not LessonPage.objects.filter(title="越权课节").exists()
    lesson = foreign_course.lessons().first()
    assert client.get(f"/admin/pages/{lesson.pk}/edit/").status_code == 302
    assert client.post(f"/admin/pages/{lesson.pk}/unpublish/").status_code == 302
    lesson.refresh_from_db()
    assert lesson.live


def test_trainer_lessons_wait_for_approval_too(client, two_bodies):
    from wagtail.test.utils.form_data import streamfield

    from tests.factories.content import ClauseFactory, ServiceItemFactory

    index_a, _index_b, trainer_a = two_bodies
    own_course = course_with_lessons(index_a, slug="a-course", lessons=0)
    clause, item = ClauseFactory(), ServiceItemFactory()
    client.force_login(trainer_a)
    assert client.get(f"/admin/pages/add/training/lessonpage/{own_course.pk}/").status_code == 200
    data = lesson_form("新课节", "action-publish")
    data.update(
        nested_form_data(
            {
                "body": streamfield(
                    [
                        ("clause_citation", {"clause": clause.pk, "comment": "引用"}),
                        ("procedure", {"service_item": item.pk, "note": ""}),
                    ]
                )
            }
        )
    )
    client.post(f"/admin/pages/add/training/lessonpage/{own_course.pk}/", data)
    lesson = LessonPage.objects.get(title="新课节")
    assert lesson.live is False
    blocks = [block.block_type for block in lesson.get_latest_revision_as_object().body]
    assert blocks == ["clause_citation", "procedure"]
    assert client.get(f"/admin/pages/{lesson.pk}/edit/").status_code == 200


def test_an_administrator_approves_the_submitted_course_and_it_goes_live(client, two_bodies):
    index_a, _index_b, trainer_a = two_bodies
    client.force_login(trainer_a)
    client.post(f"/admin/pages/add/training/coursepage/{index_a.pk}/", course_form("待审课程", "action-submit"))
    course = CoursePage.objects.get(title="待审课程")
    state = WorkflowState.objects.get(base_content_type__model="page", object_id=str(course.pk))
    approve_url = f"/admin/pages/workflow/action/{course.pk}/approve/{state.current_task_state.pk}/"

    # The trainer cannot approve their own submission.
    client.post(approve_url, {"comment": ""})
    course.refresh_from_db()
    assert course.live is False

    administrator = account_services.user_create(
        username="bureau", password="pw", name="医保局", role=Role.ADMINISTRATOR
    )
    client.force_login(administrator)
    client.post(approve_url, {"comment": "同意"})
    course.refresh_from_db()
    assert course.live is True
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_APPROVED


def test_trainer_can_choose_clauses_and_service_items_for_lessons(client, two_bodies):
    from tests.factories.content import ClauseFactory, ServiceItemFactory

    _index_a, _index_b, trainer_a = two_bodies
    clause, item = ClauseFactory(title="协助翻身条款"), ServiceItemFactory(name="协助翻身项目")
    client.force_login(trainer_a)
    clauses = client.get("/admin/snippets/choose/content/clause/")
    assert clauses.status_code == 200 and clause.title in clauses.json()["html"]
    items = client.get("/admin/snippets/choose/content/serviceitem/")
    assert items.status_code == 200 and item.name in items.json()["html"]
    # Choosing is not editing: the library itself stays closed to training bodies.
    assert client.get(f"/admin/snippets/content/clause/edit/{clause.pk}/").status_code == 302


def test_site_history_is_for_administrators_only(client):
    from accounts import services as account_services
    from tests.factories.content import administrator
    from tests.factories.training import trainer_for, training_body_with_index

    body, _index = training_body_with_index()
    account_services.role_groups_ensure()
    client.force_login(trainer_for(body))
    for url in (
        "/admin/reports/site-history/",
        "/admin/reports/site-history/results/",
        "/admin/reports/site-history/?export=csv",
    ):
        response = client.get(url)
        assert response.status_code in (302, 403), url
    reports_menu = client.get("/admin/").content.decode()
    assert "/admin/reports/site-history/" not in reports_menu

    client.force_login(administrator())
    assert client.get("/admin/reports/site-history/").status_code == 200


def test_a_move_to_another_bodys_pages_is_refused_before_their_titles_show(client):
    from accounts import services as account_services
    from tests.factories.training import course_with_lessons, trainer_for, training_body_with_index

    account_services.role_groups_ensure()
    body, index = training_body_with_index()
    _other, other_index = training_body_with_index(code="TB-B", name="乙培训学校")
    own = course_with_lessons(index, lessons=1, slug="own")
    theirs = course_with_lessons(other_index, lessons=1, slug="theirs")
    theirs.title = "乙的课程"
    theirs.save_revision().publish()
    client.force_login(trainer_for(body))
    for destination in (theirs, other_index):
        response = client.get(f"/admin/pages/{own.pk}/move/{destination.pk}/confirm/")
        html = response.content.decode()
        assert response.status_code in (302, 403) and "乙的课程" not in html and "乙培训学校" not in html
        assert client.post(f"/admin/pages/{own.pk}/move/{destination.pk}/confirm/").status_code in (302, 403)
    own.refresh_from_db()
    assert own.get_parent().pk == index.pk


def test_the_page_chooser_offers_no_other_bodys_draft(client, two_bodies):
    index_a, index_b, trainer_a = two_bodies
    draft = index_b.add_child(
        instance=CoursePage(title="乙未发布课程", slug="b-draft", summary="草稿", hours=1, live=False)
    )
    own = index_a.add_child(
        instance=CoursePage(title="甲未发布课程", slug="a-draft", summary="草稿", hours=1, live=False)
    )
    client.force_login(trainer_a)

    def offered(url, **query) -> str:
        response = client.get(url, query)
        return response.json()["html"] if response.headers["Content-Type"] == "application/json" else response.text

    assert own.title in offered(f"/admin/choose-page/{index_a.pk}/")
    assert draft.title not in offered(f"/admin/choose-page/{index_b.pk}/")
    for query in (draft.title, "乙"):
        assert draft.title not in offered("/admin/choose-page/search/", q=query)
