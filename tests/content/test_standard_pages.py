import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from content.models import ServiceItem
from tests.factories.content import ClauseFactory, ServiceItemFactory, StandardFactory

pytestmark = pytest.mark.django_db


def test_a_standard_page_lists_its_live_clauses_in_number_order_with_anchors(client):
    standard = StandardFactory(code="DB1405/T 901—2022")
    later = ClauseFactory(standard=standard, number="4.10", title="第十款")
    earlier = ClauseFactory(standard=standard, number="4.9", title="第九款")
    ClauseFactory(standard=standard, number="4.11", title="草稿条款", live=False)
    page = client.get(standard.get_absolute_url()).content.decode()
    assert page.index("第九款") < page.index("第十款")
    assert f'id="clause-{earlier.pk}"' in page and f'id="clause-{later.pk}"' in page
    assert "草稿条款" not in page
    assert earlier.get_absolute_url().endswith(f"#clause-{earlier.pk}")


def test_unpublished_standards_are_not_public(client):
    draft = StandardFactory(live=False)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert draft.code not in client.get("/standards/").content.decode()


def test_the_service_item_list_groups_by_category_in_a_fixed_number_of_queries(client):
    clause = ClauseFactory()
    item = ServiceItemFactory(name="协助翻身", steps="评估\n翻身", category=ServiceItem.Category.BASIC_NURSING)
    item.clauses.add(clause)
    item.save()
    client.get("/service-items/")
    with CaptureQueriesContext(connection) as few:
        client.get("/service-items/")
    for _ in range(10):
        extra = ServiceItemFactory(category=ServiceItem.Category.DAILY_LIVING)
        extra.clauses.add(ClauseFactory())
        extra.save()
    with CaptureQueriesContext(connection) as many:
        page = client.get("/service-items/").content.decode()
    assert len(many) == len(few)
    assert "基础护理" in page and "生活照料" in page and "评估" in page
    assert clause.get_absolute_url() in page
