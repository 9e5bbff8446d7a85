import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories.content import ServiceItemFactory
from tests.factories.training import course_with_lessons, training_body_with_index

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:
    return [course.title for course in response.context["courses"]]


@pytest.fixture
def catalogue(db):
    turning = ServiceItemFactory(name="协助翻身")
    feeding = ServiceItemFactory(name="协助进食")
    body_a, index_a = training_body_with_index("TB-A", "甲培训学校")
    body_b, index_b = training_body_with_index("TB-B", "乙培训学校")
    basic = course_with_lessons(index_a, slug="basic", title="基础照护", star_level_min=1, star_level_max=2)
    basic.service_items.add(feeding)
    basic.save()
    turning_course = course_with_lessons(
        index_b, slug="turning", title="卧床照护实操", summary="协助翻身与压疮预防", star_level_min=3, star_level_max=5
    )
    turning_course.service_items.add(turning)
    turning_course.save()
    draft = course_with_lessons(index_a, slug="draft", title="未发布的翻身课程")
    draft.unpublish()
    return {"turning": turning, "feeding": feeding, "body_a": body_a, "body_b": body_b}


def test_the_catalogue_lists_live_courses_with_their_training_body(client, catalogue):
    response = client.get("/courses/")
    assert sorted(titles(response)) == ["卧床照护实操", "基础照护"]
    page = response.content.decode()
    assert "甲培训学校" in page and "乙培训学校" in page


def test_search_finds_chinese_words_inside_titles_summaries_and_service_items(client, catalogue):
    assert titles(client.get("/courses/", {"q": "翻身"})) == ["卧床照护实操"]
    assert titles(client.get("/courses/", {"q": "进食"})) == ["基础照护"]
    assert titles(client.get("/courses/", {"q": "照护"})) != []
    assert titles(client.get("/courses/", {"q": "心理"})) == []


def test_filters_by_service_item_star_level_and_training_body(client, catalogue):
    assert titles(client.get("/courses/", {"service_item": catalogue["turning"].pk})) == ["卧床照护实操"]
    assert titles(client.get("/courses/", {"star_level": 2})) == ["基础照护"]
    assert titles(client.get("/courses/", {"star_level": 4})) == ["卧床照护实操"]
    assert titles(client.get("/courses/", {"training_body": catalogue["body_a"].pk})) == ["基础照护"]
    assert titles(client.get("/courses/", {"training_body": catalogue["body_b"].pk, "star_level": 1})) == []


def test_nonsense_filters_are_shown_as_errors_not_crashes(client, catalogue):
    response = client.get("/courses/", {"star_level": "9", "service_item": "abc"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert sorted(titles(response)) == ["卧床照护实操", "基础照护"]


def count_queries(client, url, params=None) -> int:
    client.get(url, params)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("params", [{}, {"q": "课程", "star_level": 2}])
def test_the_course_list_costs_the_same_with_3_or_30_courses(client, params):
    items = [ServiceItemFactory() for _ in range(3)]
    bodies = [training_body_with_index(f"TB-{n}", f"培训学校{n}")[1] for n in range(3)]

    def add_courses(count, start):
        for number in range(start, start + count):
            course = course_with_lessons(bodies[number % 3], slug=f"c{number}", lessons=1)
            course.service_items.add(*items)
            course.save()

    add_courses(3, 0)
    few = count_queries(client, "/courses/", params)
    add_courses(27, 3)
    many = count_queries(client, "/courses/", params)
    assert many == few
    assert few <= 12
