"""Demonstration data for content (the home page, the local care standards and the service item list), modelled on
Jincheng's pilot; every record is marked as demo data and running it again changes nothing. `manage.py seed_demo`
calls each app's part in turn."""

import datetime

from wagtail.models import Page, Site

from accounts.demo import DEMO_MARK
from content.models import Clause, HomePage, ServiceItem, Standard

STANDARDS = [
    {
        "code": "DB1405/T 901—2022",
        "title": "长期护理保险护理服务规范",
        "kind": Standard.Kind.CARE_SERVICE,
        "clauses": [
            ("4", "基本要求", "护理服务应以失能人员为中心，尊重其人格尊严和生活习惯，保护个人隐私。"),
            ("4.1", "人员要求", "护理员应经培训考核合格后上岗，熟悉护理服务项目清单及操作规程。"),
            ("5", "生活照料", "生活照料包括清洁照料、饮食照料、排泄照料和睡眠照料等服务。"),
            ("5.1", "头面部清洁", "每日协助服务对象完成洗脸、洗头、口腔清洁，水温宜为 38℃～40℃，动作轻柔。"),
            ("5.2", "协助进食", "进食前协助取坐位或半坐卧位，观察吞咽情况，防止呛咳和误吸。"),
            ("6", "基础护理", "基础护理包括体位转换、压疮预防、生命体征观察等服务。"),
            ("6.1", "协助翻身", "卧床服务对象至少每 2 小时翻身一次，翻身时避免拖、拉、推。"),
            ("6.2", "压疮预防", "观察骨隆突处皮肤情况，保持皮肤清洁干燥，发现异常及时报告。"),
        ],
    },
    {
        "code": "DB1405/T 902—2022",
        "title": "长期护理保险定点护理机构评级规范",
        "kind": Standard.Kind.INSTITUTION_RATING,
        "clauses": [
            ("4", "评级原则", "定点护理机构评级坚持公开、公平、公正，实行动态管理。"),
            ("5", "评价指标", "评价指标包括机构管理、人员配备、服务质量、满意度等。"),
            ("5.2", "人员配备", "机构应按服务对象数量配备经星级评定的护理员。"),
        ],
    },
    {
        "code": "DB1405/T 903—2022",
        "title": "长期护理保险护理员星级评定规范",
        "kind": Standard.Kind.CAREGIVER_STAR,
        "clauses": [
            ("4", "星级划分", "护理员技能等级由低到高分为一星级至五星级。"),
            ("5", "评定条件", "星级评定综合考虑培训学时、理论考试、实操考核、从业年限和服务评价。"),
            ("6", "评定程序", "护理员星级评定按申请、资格审核、考核、评审、公示、发证的程序进行。"),
            ("7", "复评", "星级证书有效期内实行复评，发生有责投诉或重大责任事故的予以降级。"),
        ],
    },
]


SERVICE_ITEMS = [
    (
        "SC-01",
        "头面部清洁",
        ServiceItem.Category.DAILY_LIVING,
        "5.1",
        "准备温水和毛巾\n核对服务对象并解释\n由内向外擦洗面部\n整理用物并记录",
    ),
    (
        "SC-02",
        "协助进食",
        ServiceItem.Category.DAILY_LIVING,
        "5.2",
        "协助取坐位\n检查食物温度\n小口慢喂并观察吞咽\n进食后清洁口腔",
    ),
    ("SC-03", "洗发", ServiceItem.Category.DAILY_LIVING, "5.1", "调节水温\n保护耳眼\n清洗并擦干头发"),
    (
        "BN-01",
        "协助翻身",
        ServiceItem.Category.BASIC_NURSING,
        "6.1",
        "评估体位与皮肤\n两人配合平移\n翻身并垫软枕\n记录翻身时间",
    ),
    ("BN-02", "压疮预防", ServiceItem.Category.BASIC_NURSING, "6.2", "检查骨隆突处皮肤\n保持床单位平整干燥\n定时减压"),
    ("MN-01", "生命体征测量", ServiceItem.Category.MEDICAL_NURSING, "6", "测量体温\n测量脉搏与呼吸\n测量血压并记录"),
    ("PS-01", "心理慰藉", ServiceItem.Category.PSYCHOLOGICAL, "4", "耐心倾听\n适当鼓励\n发现异常情绪及时报告"),
]


def paragraph(html: str) -> dict:
    return {"type": "paragraph", "value": html}


def site_home() -> HomePage:
    home = HomePage.objects.first()
    if home is not None:
        return home
    root = Page.get_first_root_node()
    # Wagtail installs a plain "Welcome" page as the site root; the home page takes its place.
    for placeholder in root.get_children().filter(content_type__model="page", content_type__app_label="wagtailcore"):
        Site.objects.filter(root_page=placeholder).delete()
        placeholder.delete()
    home = root.add_child(
        instance=HomePage(
            title="CareStar 护理员培训与星级认证平台",
            slug="home",
            intro="<p>面向长期护理保险定点护理机构的护理员培训、考核与星级认证平台：按地方标准学习课程，"
            "参加理论考试与实操考核，获得可公开验证的星级证书。</p>",
            demo_notice="本站当前为演示环境，所有机构、人员与证书均为虚构的演示数据。",
        )
    )
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home, "site_name": "CareStar"},
    )
    return home


def standards() -> dict[str, Clause]:
    clauses = {}
    for spec in STANDARDS:
        standard, _created = Standard.objects.get_or_create(
            code=spec["code"],
            defaults={
                "title": spec["title"] + DEMO_MARK,
                "kind": spec["kind"],
                "version": "2022",
                "issuing_body": "晋城市市场监督管理局（演示）",
                "effective_date": datetime.date(2022, 7, 1),
            },
        )
        for number, title, text in spec["clauses"]:
            parent = clauses.get((standard.kind, number.rsplit(".", 1)[0])) if "." in number else None
            clause, _created = Clause.objects.get_or_create(
                standard=standard, number=number, defaults={"title": title, "text": text, "parent": parent}
            )
            clauses[(standard.kind, number)] = clause
    return {number: clause for (kind, number), clause in clauses.items() if kind == Standard.Kind.CARE_SERVICE}


def service_items(clauses) -> dict[str, ServiceItem]:
    items = {}
    for code, name, category, clause_number, steps in SERVICE_ITEMS:
        item, created = ServiceItem.objects.get_or_create(
            code=code, defaults={"name": name, "category": category, "steps": steps, "description": f"{name}服务"}
        )
        if created:
            item.clauses.add(clauses[clause_number])
        items[code] = item
    return items
