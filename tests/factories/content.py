import datetime

import factory
from wagtail.models import Page, Site

from content.models import Clause, HomePage, ServiceItem, Standard


class StandardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Standard

    code = factory.Sequence(lambda n: f"DB1405/T {100 + n}—2022")
    title = "长期护理保险护理服务规范"
    kind = Standard.Kind.CARE_SERVICE
    version = "2022"
    issuing_body = "晋城市市场监督管理局"
    effective_date = datetime.date(2022, 7, 1)


class ClauseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clause

    standard = factory.SubFactory(StandardFactory)
    number = factory.Sequence(lambda n: f"5.{n + 1}")
    title = "协助翻身"
    text = "卧床服务对象至少每 2 小时翻身一次。"


class ServiceItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceItem

    code = factory.Sequence(lambda n: f"SI-{n:03d}")
    name = "协助翻身"
    category = ServiceItem.Category.BASIC_NURSING


def home_page() -> HomePage:
    """The site's home page, created once per test database like the demo seed does."""
    home = HomePage.objects.first()
    if home is not None:
        return home
    root = Page.get_first_root_node()
    for placeholder in root.get_children().exclude(content_type__app_label="content"):
        Site.objects.filter(root_page=placeholder).delete()
        placeholder.delete()
    home = root.add_child(instance=HomePage(title="CareStar", slug="home", intro="<p>护理员培训平台</p>"))
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "port": 80, "root_page": home}
    )
    return home


def administrator(username: str = "bureau"):
    from accounts import services as account_services
    from accounts.models import Role

    return account_services.user_create(username=username, password="pw", name="医保局", role=Role.ADMINISTRATOR)
