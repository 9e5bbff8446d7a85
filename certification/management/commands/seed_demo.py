"""Demonstration data modelled on Jincheng's pilot, every record marked as demo data. Safe to run again."""

import datetime
import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from wagtail.models import Page, Site

from accounts import services as account_services
from accounts.models import AssessorProfile, CaregiverProfile, County, Institution, Role, TrainingBody, User
from accounts.national_id import national_id_check_character
from certification.evaluations import selectors as evaluation_selectors
from certification.evaluations import services as evaluation_services
from certification.exams import services as exam_services
from certification.models import (
    CertificateTemplate,
    Choice,
    Evaluation,
    Exam,
    ExamQuestion,
    PracticalAssessment,
    PracticalStep,
    PracticalTemplate,
    Question,
    ServiceDataImport,
    ServiceIncident,
    ServiceMonth,
    StarLevelRule,
    StarRuleSet,
)
from certification.practicals.services import practical_assign
from content.models import Clause, HomePage, ServiceItem, Standard
from training import services as training_services
from training.models import (
    BatchSession,
    CourseIndexPage,
    CoursePage,
    Enrollment,
    LessonPage,
    TrainingBatch,
    TrainingHoursEntry,
    TrainingSettings,
)

DEMO_PASSWORD = "carestar-demo"
DEMO_MARK = "（演示）"

COUNTIES = [
    ("140502", "城区"),
    ("140525", "泽州县"),
    ("140581", "高平市"),
    ("140522", "阳城县"),
    ("140524", "陵川县"),
    ("140521", "沁水县"),
]

INSTITUTIONS = [
    ("DEMO-I01", "晋城市第一人民医院护理中心", Institution.Kind.MEDICAL, "140502"),
    ("DEMO-I02", "泽州县人民医院康复护理部", Institution.Kind.MEDICAL, "140525"),
    ("DEMO-I03", "高平市中医院护理中心", Institution.Kind.MEDICAL, "140581"),
    ("DEMO-I04", "阳城县医疗集团护理院", Institution.Kind.MEDICAL, "140522"),
    ("DEMO-I05", "城区康乐养老院", Institution.Kind.ELDERLY_CARE, "140502"),
    ("DEMO-I06", "泽州县福寿养老中心", Institution.Kind.ELDERLY_CARE, "140525"),
    ("DEMO-I07", "陵川县颐养院", Institution.Kind.ELDERLY_CARE, "140524"),
    ("DEMO-I08", "沁水县夕阳红养老院", Institution.Kind.ELDERLY_CARE, "140521"),
    ("DEMO-I09", "城区安心上门护理服务站", Institution.Kind.HOME_CARE, "140502"),
    ("DEMO-I10", "高平市暖阳居家护理服务中心", Institution.Kind.HOME_CARE, "140581"),
    ("DEMO-I11", "阳城县仁爱居家照护站", Institution.Kind.HOME_CARE, "140522"),
    ("DEMO-I12", "沁水县康宁上门护理站", Institution.Kind.HOME_CARE, "140521"),
]

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

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
GIVEN = "秀英桂兰玉梅丽华建国志强海燕春燕红霞淑珍凤英文静晓东小红卫东雪梅金凤明亮婷婷晨曦佳怡"

QUESTIONS = [
    ("卧床服务对象至少每几小时翻身一次？", Question.Kind.SINGLE, ["1 小时", "2 小时", "4 小时", "6 小时"], {1}, "6.1"),
    (
        "为服务对象洗脸时，适宜的水温是：",
        Question.Kind.SINGLE,
        ["20℃～25℃", "38℃～40℃", "50℃～55℃", "越热越好"],
        {1},
        "5.1",
    ),
    (
        "协助进食前，服务对象宜取的体位是：",
        Question.Kind.SINGLE,
        ["平卧位", "坐位或半坐卧位", "俯卧位", "侧卧位"],
        {1},
        "5.2",
    ),
    (
        "以下哪些属于压疮预防措施？（多选）",
        Question.Kind.MULTIPLE,
        ["定时翻身减压", "保持皮肤清洁干燥", "用力按摩发红部位", "保持床单平整"],
        {0, 1, 3},
        "6.2",
    ),
    ("翻身时可以拖、拉、推服务对象。", Question.Kind.TRUE_FALSE, ["正确", "错误"], {1}, "6.1"),
    ("护理员应经培训考核合格后上岗。", Question.Kind.TRUE_FALSE, ["正确", "错误"], {0}, "4.1"),
    (
        "发现服务对象皮肤异常时，护理员应：",
        Question.Kind.SINGLE,
        ["自行处理不必报告", "及时报告并记录", "等下次服务再说", "告诉家属即可"],
        {1},
        "6.2",
    ),
    (
        "护理服务应尊重服务对象的哪些方面？（多选）",
        Question.Kind.MULTIPLE,
        ["人格尊严", "生活习惯", "个人隐私", "护理员个人喜好"],
        {0, 1, 2},
        "4",
    ),
]

# Practical checklists (实操考核评分表): service item, title, pass mark, steps as (text, points, critical).
PRACTICALS = [
    (
        "BN-01",
        "协助翻身实操考核（演示）",
        70,
        [
            ("核对服务对象，解释操作目的，取得配合", 10, False),
            ("评估体位、皮肤及管路情况", 15, False),
            ("两人配合平移，避免拖、拉、推", 25, True),
            ("翻身后垫软枕，保持功能体位", 20, False),
            ("检查受压部位皮肤，整理床单位", 15, False),
            ("记录翻身时间与皮肤情况", 15, False),
        ],
    ),
    (
        "SC-02",
        "协助进食实操考核（演示）",
        70,
        [
            ("协助取坐位或半坐卧位", 20, True),
            ("检查食物温度与性状", 20, False),
            ("小口慢喂，观察吞咽，防止呛咳", 40, True),
            ("进食后清洁口腔并保持体位 30 分钟", 20, False),
        ],
    ),
]

RULES = [
    # level, hours, theory, practical, years, practitioner level, satisfaction %, complaints allowed
    (1, "20", 60, 60, 0, 0, "0", None),
    (2, "40", 70, 70, 1, 0, "80", 2),
    (3, "60", 75, 75, 2, 5, "85", 1),
    (4, "90", 80, 80, 3, 4, "90", 0),
    (5, "120", 90, 90, 5, 3, "95", 0),
]


def demo_national_id(rng: random.Random, region: str, birth: datetime.date, gender: str) -> str:
    sequence = rng.randrange(0, 50) * 2 + (1 if gender == "M" else 0)
    first_17 = f"{region}{birth:%Y%m%d}{rng.randrange(0, 10)}{sequence:02d}"
    return first_17 + national_id_check_character(first_17)


def paragraph(html: str) -> dict:
    return {"type": "paragraph", "value": html}


class Command(BaseCommand):
    help = "Load Jincheng-like demonstration data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--caregivers", type=int, default=50)

    @transaction.atomic
    def handle(self, *args, caregivers: int, **options):
        rng = random.Random(2022)
        groups = account_services.role_groups_ensure()
        home = self.site_home()
        counties = {
            code: County.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in COUNTIES
        }
        institutions = [
            Institution.objects.get_or_create(
                code=code, defaults={"name": name + DEMO_MARK, "kind": kind, "county": counties[county]}
            )[0]
            for code, name, kind, county in INSTITUTIONS
        ]
        clauses = self.standards()
        items = self.service_items(clauses)
        bodies = self.training_bodies(home)
        self.staff(institutions, bodies, groups)
        course = self.course(bodies[0], clauses, items)
        second_course = self.second_course(bodies[1], clauses, items)
        exam = self.exam(course, clauses)
        self.rule_set(required_course=course)
        self.certificate_template()
        self.caregivers(rng, institutions, caregivers)
        self.practicals(items)
        self.training_settings(course)
        self.batches(course, second_course)
        self.service_data(rng)
        self.evaluations(exam)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {County.objects.count()} counties, {Institution.objects.count()} institutions, "
                f"{CaregiverProfile.objects.count()} caregivers, courses «{course.title}» and "
                f"«{second_course.title}», {TrainingBatch.objects.count()} training batches, exam «{exam.title}»."
            )
        )

    def site_home(self) -> HomePage:
        home = HomePage.objects.first()
        if home is not None:
            return home
        root = Page.get_first_root_node()
        # Wagtail installs a plain "Welcome" page as the site root; the home page takes its place.
        for placeholder in root.get_children().filter(
            content_type__model="page", content_type__app_label="wagtailcore"
        ):
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

    def standards(self) -> dict[str, Clause]:
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

    def service_items(self, clauses) -> dict[str, ServiceItem]:
        items = {}
        for code, name, category, clause_number, steps in SERVICE_ITEMS:
            item, created = ServiceItem.objects.get_or_create(
                code=code, defaults={"name": name, "category": category, "steps": steps, "description": f"{name}服务"}
            )
            if created:
                item.clauses.add(clauses[clause_number])
            items[code] = item
        return items

    def training_bodies(self, home: HomePage) -> list[TrainingBody]:
        bodies = []
        for code, name in (
            ("DEMO-T1", "晋城市护理职业培训学校（演示）"),
            ("DEMO-T2", "泽州县康养技能培训中心（演示）"),
        ):
            body = account_services.training_body_create(code=code, name=name)
            index = CourseIndexPage.objects.filter(training_body=body).first()
            if index is None:
                index = home.add_child(
                    instance=CourseIndexPage(
                        title=f"{name}课程",
                        slug=code.lower(),
                        training_body=body,
                        intro=f"<p>{name}开设的培训课程。</p>",
                    )
                )
            account_services.training_body_grant_subtree(training_body=body, page=index)
            bodies.append(body)
        return bodies

    def staff(self, institutions, bodies, groups) -> None:
        def ensure(username, **kwargs):
            if not User.objects.filter(username=username).exists():
                return account_services.user_create(username=username, password=DEMO_PASSWORD, **kwargs)
            return None

        admin = ensure("admin", name="医保局管理员", role=Role.ADMINISTRATOR, email="admin@example.com")
        if admin is not None:
            admin.is_superuser = True
            admin.is_staff = True
            admin.save(update_fields=["is_superuser", "is_staff"])
        ensure("trainer1", name="赵培训", role=Role.TRAINING_BODY, training_body=bodies[0])
        ensure("trainer2", name="钱培训", role=Role.TRAINING_BODY, training_body=bodies[1])
        ensure("manager1", name="孙主任", role=Role.MANAGER, institution=institutions[4])
        ensure("manager2", name="李主任", role=Role.MANAGER, institution=institutions[8])
        for username, name, institution in (
            ("assessor1", "周考评", institutions[3]),
            ("assessor2", "吴考评", institutions[7]),
        ):
            if not AssessorProfile.objects.filter(user__username=username).exists():
                account_services.assessor_create(
                    username=username,
                    password=DEMO_PASSWORD,
                    name=name,
                    institution=institution,
                    qualifications="晋城市护理员星级评定考评员（演示）",
                )

    def course(self, body: TrainingBody, clauses, items) -> CoursePage:
        index = body.course_index
        course = CoursePage.objects.child_of(index).filter(slug="basic-care").first()
        if course is not None:
            return course
        course = index.add_child(
            instance=CoursePage(
                title="长护险护理员星级培训：基础照护",
                slug="basic-care",
                summary="依据晋城市长期护理保险护理服务规范，学习生活照料与基础护理的核心操作。",
                objectives="<ul><li>理解长护险护理服务的基本要求</li><li>掌握头面部清洁与协助进食</li>"
                "<li>掌握协助翻身与压疮预防</li></ul>",
                hours=Decimal("4.0"),
            )
        )
        course.service_items.set([items["SC-01"], items["SC-02"], items["BN-01"], items["BN-02"]])
        course.save_revision().publish()
        lessons = [
            (
                "长护险护理服务的基本要求",
                45,
                [
                    {"type": "heading", "value": {"text": "以服务对象为中心", "level": "h2"}},
                    paragraph(
                        "<p>长期护理保险为失能人员提供基本生活照料和与之密切相关的医疗护理。护理员是服务质量的关键。</p>"
                    ),
                    {
                        "type": "clause_citation",
                        "value": {"clause": clauses["4"].pk, "comment": "这是全部护理服务的出发点。"},
                    },
                    {"type": "clause_citation", "value": {"clause": clauses["4.1"].pk, "comment": ""}},
                    {
                        "type": "key_points",
                        "value": {"title": "要点", "points": ["尊重人格尊严", "保护个人隐私", "持证上岗"]},
                    },
                ],
            ),
            (
                "头面部清洁与协助进食",
                90,
                [
                    {"type": "heading", "value": {"text": "头面部清洁", "level": "h2"}},
                    {"type": "clause_citation", "value": {"clause": clauses["5.1"].pk, "comment": "水温过高易烫伤。"}},
                    {"type": "heading", "value": {"text": "协助进食", "level": "h2"}},
                    {
                        "type": "clause_citation",
                        "value": {"clause": clauses["5.2"].pk, "comment": "误吸是最需警惕的风险。"},
                    },
                    {
                        "type": "key_points",
                        "value": {"title": "要点", "points": ["水温 38℃～40℃", "坐位或半坐卧位进食", "小口慢喂"]},
                    },
                ],
            ),
            (
                "协助翻身与压疮预防",
                45,
                [
                    {"type": "heading", "value": {"text": "协助翻身", "level": "h2"}},
                    {"type": "clause_citation", "value": {"clause": clauses["6.1"].pk, "comment": ""}},
                    {"type": "heading", "value": {"text": "压疮预防", "level": "h2"}},
                    {"type": "clause_citation", "value": {"clause": clauses["6.2"].pk, "comment": "早发现、早报告。"}},
                    {
                        "type": "key_points",
                        "value": {"title": "要点", "points": ["至少每 2 小时翻身", "避免拖拉推", "保持皮肤清洁干燥"]},
                    },
                ],
            ),
        ]
        for number, (title, minutes, body_blocks) in enumerate(lessons, start=1):
            lesson = course.add_child(
                instance=LessonPage(title=title, slug=f"lesson-{number}", minutes=minutes, body=body_blocks)
            )
            lesson.save_revision().publish()
        return course

    def second_course(self, body: TrainingBody, clauses, items) -> CoursePage:
        index = body.course_index
        course = CoursePage.objects.child_of(index).filter(slug="turning-and-pressure-care").first()
        if course is not None:
            return course
        course = index.add_child(
            instance=CoursePage(
                title="卧床照护实操：协助翻身与压疮预防",
                slug="turning-and-pressure-care",
                summary="面向二星级及以上护理员的实操课程：按护理服务项目清单的操作步骤练习协助翻身、压疮预防和生命体征测量。",
                objectives="<ul><li>按规范步骤完成协助翻身</li><li>识别压疮高危部位并采取预防措施</li>"
                "<li>正确测量并记录生命体征</li></ul>",
                hours=Decimal("3.0"),
                star_level_min=2,
                star_level_max=4,
            )
        )
        course.service_items.set([items["BN-01"], items["BN-02"], items["MN-01"]])
        course.save_revision().publish()
        lessons = [
            (
                "协助翻身的操作步骤",
                45,
                [
                    {"type": "heading", "value": {"text": "为什么要定时翻身", "level": "h2"}},
                    paragraph("<p>长期卧床的服务对象局部皮肤持续受压，容易发生压疮。定时翻身是最基本的预防措施。</p>"),
                    {
                        "type": "clause_citation",
                        "value": {"clause": clauses["6.1"].pk, "comment": "至少每 2 小时一次。"},
                    },
                    {"type": "procedure", "value": {"service_item": items["BN-01"].pk, "note": "两人配合，动作轻稳。"}},
                    {
                        "type": "self_check",
                        "value": {
                            "question": "协助翻身时，下列做法正确的是：",
                            "options": [
                                {"text": "拖拉服务对象以节省力气", "correct": False},
                                {"text": "两人配合平移后再翻身", "correct": True},
                                {"text": "翻身后不必记录时间", "correct": False},
                            ],
                            "explanation": "规范要求翻身时避免拖、拉、推，并记录翻身时间。",
                        },
                    },
                ],
            ),
            (
                "压疮预防与生命体征观察",
                90,
                [
                    {"type": "heading", "value": {"text": "压疮预防", "level": "h2"}},
                    {"type": "clause_citation", "value": {"clause": clauses["6.2"].pk, "comment": "早发现、早报告。"}},
                    {"type": "procedure", "value": {"service_item": items["BN-02"].pk, "note": ""}},
                    {"type": "heading", "value": {"text": "生命体征测量", "level": "h2"}},
                    {"type": "clause_citation", "value": {"clause": clauses["6"].pk, "comment": ""}},
                    {
                        "type": "procedure",
                        "value": {"service_item": items["MN-01"].pk, "note": "测量结果异常时及时报告。"},
                    },
                    {
                        "type": "key_points",
                        "value": {"title": "要点", "points": ["骨隆突处重点观察", "床单位平整干燥", "异常及时报告"]},
                    },
                    {
                        "type": "self_check",
                        "value": {
                            "question": "以下哪些属于压疮预防措施？（多选）",
                            "options": [
                                {"text": "定时翻身减压", "correct": True},
                                {"text": "保持皮肤清洁干燥", "correct": True},
                                {"text": "用力按摩发红部位", "correct": False},
                            ],
                            "explanation": "发红部位不宜用力按摩，以免加重损伤。",
                        },
                    },
                ],
            ),
        ]
        for number, (title, minutes, body_blocks) in enumerate(lessons, start=1):
            lesson = course.add_child(
                instance=LessonPage(title=title, slug=f"lesson-{number}", minutes=minutes, body=body_blocks)
            )
            lesson.save_revision().publish()
        return course

    def training_settings(self, required_course: CoursePage) -> None:
        settings = TrainingSettings.load()
        if settings.required_courses.exists():
            return
        settings.required_courses.set([required_course])
        # A short minimum so that a walk through the demo takes seconds per lesson, not half its study time.
        settings.lesson_minimum_percent = 2
        settings.save()

    def batches(self, course: CoursePage, second_course: CoursePage) -> None:
        if TrainingBatch.objects.exists():
            return
        now = timezone.localtime()
        today = now.date()

        def at(days: int, hour: int) -> datetime.datetime:
            return (now + datetime.timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)

        def caregivers_numbered(numbers) -> list[CaregiverProfile]:
            usernames = [f"caregiver{number:02d}" for number in numbers]
            return list(CaregiverProfile.objects.filter(user__username__in=usernames).select_related("user"))

        # A batch of the required course that has finished: its roster attended, so coverage is not zero.
        trainer1 = User.objects.get(username="trainer1")
        finished = TrainingBatch.objects.create(
            training_body=course.get_parent().specific.training_body,
            course=course,
            name="基础照护 2026 年第 1 期（城区，演示）",
            starts_on=today - datetime.timedelta(days=30),
            ends_on=today - datetime.timedelta(days=29),
            place="晋城市护理职业培训学校 201 教室（演示）",
            capacity=40,
        )
        sessions = [
            BatchSession.objects.create(
                batch=finished, topic="护理服务基本要求与生活照料", starts_at=at(-30, 9), ends_at=at(-30, 12), hours=4
            ),
            BatchSession.objects.create(
                batch=finished, topic="协助翻身与压疮预防", starts_at=at(-29, 9), ends_at=at(-29, 12), hours=4
            ),
        ]
        members = caregivers_numbered(range(5, 17))
        training_services.batch_roster_add(batch=finished, caregivers=members, user=trainer1)
        for position, session in enumerate(sessions):
            # One learner missed the second day and has not completed the course.
            present = [c.pk for c in members if not (position == 1 and c.user.username == "caregiver16")]
            training_services.session_attendance_record(session=session, caregiver_ids=present, user=trainer1)

        # A batch of the second course that starts next week: caregiver02 sees it under "what's next".
        trainer2 = User.objects.get(username="trainer2")
        upcoming = TrainingBatch.objects.create(
            training_body=second_course.get_parent().specific.training_body,
            course=second_course,
            name="卧床照护实操 2026 年第 1 期（泽州县，演示）",
            starts_on=today + datetime.timedelta(days=7),
            ends_on=today + datetime.timedelta(days=8),
            place="泽州县康养技能培训中心实训室（演示）",
            capacity=30,
        )
        BatchSession.objects.create(
            batch=upcoming, topic="协助翻身实操", starts_at=at(7, 9), ends_at=at(7, 12), hours=4
        )
        BatchSession.objects.create(
            batch=upcoming, topic="压疮预防与生命体征测量", starts_at=at(8, 9), ends_at=at(8, 12), hours=4
        )
        training_services.batch_roster_add(
            batch=upcoming, caregivers=caregivers_numbered([2, *range(17, 25)]), user=trainer2
        )

    def exam(self, course: CoursePage, clauses) -> Exam:
        exam = Exam.objects.filter(course=course).first()
        if exam is not None:
            return exam
        exam = Exam.objects.create(
            title="基础照护理论考试", course=course, time_limit_minutes=20, pass_mark=60, max_attempts=3
        )
        for order, (text, kind, options, correct, clause_number) in enumerate(QUESTIONS):
            question = Question.objects.create(text=text, kind=kind, clause=clauses[clause_number])
            for position, option in enumerate(options):
                Choice.objects.create(
                    question=question, text=option, is_correct=position in correct, sort_order=position
                )
            ExamQuestion.objects.create(exam=exam, question=question, sort_order=order)
        return exam

    def rule_set(self, required_course: CoursePage) -> StarRuleSet:
        rule_set, created = StarRuleSet.objects.get_or_create(
            name="晋城市护理员星级评定规则（示例）",
            version="2022.1",
            defaults={
                "effective_from": datetime.date(2022, 7, 1),
                "is_illustrative": True,
                "notes": "示例数值，仅用于演示，并非地方标准的正式条件。",
            },
        )
        if created:
            for level, hours, theory, practical, years, practitioner, satisfaction, complaints in RULES:
                rule = StarLevelRule.objects.create(
                    rule_set=rule_set,
                    level=level,
                    min_training_hours=Decimal(hours),
                    min_theory_score=theory,
                    min_practical_score=practical,
                    min_years_of_service=years,
                    min_practitioner_level=practitioner,
                    min_satisfaction_rate=Decimal(satisfaction),
                    max_substantiated_complaints=complaints,
                )
                if level >= 3:
                    rule.required_courses.add(required_course)
                    rule.save()
        return rule_set

    def service_data(self, rng: random.Random) -> None:
        """Six months of service figures per caregiver, and a few complaints, as the LTCI system would send."""
        if ServiceDataImport.objects.filter(batch_key="demo-service-data").exists():
            return
        batch = ServiceDataImport.objects.create(
            source=ServiceDataImport.Source.SPREADSHEET, batch_key="demo-service-data", payload_sha256="0" * 64
        )
        this_month = timezone.localdate().replace(day=1)
        months = []
        for caregiver in CaregiverProfile.objects.filter(user__username__startswith="caregiver"):
            for back in range(1, 7):
                month = (this_month - datetime.timedelta(days=28 * back)).replace(day=1)
                surveys = rng.randrange(4, 12)
                months.append(
                    ServiceMonth(
                        caregiver=caregiver,
                        month=month,
                        service_hours=Decimal(rng.randrange(60, 160)),
                        surveys=surveys,
                        satisfied=surveys - rng.choice([0, 0, 0, 1]),
                        imported_in=batch,
                    )
                )
        ServiceMonth.objects.bulk_create(months, ignore_conflicts=True)
        for number, (username, substantiated) in enumerate((("caregiver07", True), ("caregiver11", False)), start=1):
            caregiver = CaregiverProfile.objects.filter(user__username=username).first()
            if caregiver:
                ServiceIncident.objects.create(
                    caregiver=caregiver,
                    reference=f"DEMO-TS-{number:04d}",
                    kind=ServiceIncident.Kind.COMPLAINT,
                    occurred_on=this_month - datetime.timedelta(days=40),
                    substantiated=substantiated,
                    summary="服务对象家属反映上门时间不准时（演示数据）",
                    imported_in=batch,
                )

    def evaluations(self, exam: Exam) -> None:
        """Star evaluations at every step, for the walk-through: applied, with assessor1, waiting for
        assessor2's review, and decided (its certificate is issued by the worker)."""
        if Evaluation.objects.exists():
            return
        admin = User.objects.get(username="admin")
        assessor1 = User.objects.get(username="assessor1")
        assessor2 = User.objects.get(username="assessor2")
        candidates = {
            username: CaregiverProfile.objects.filter(user__username=username).first()
            for username in ("caregiver02", "caregiver03", "caregiver05", "caregiver06")
        }
        if not all(candidates.values()):
            return
        for caregiver in candidates.values():
            # A record that supports two stars: enough hours and a passed theory exam.
            TrainingHoursEntry.objects.create(
                caregiver=caregiver,
                hours=Decimal("45"),
                source=TrainingHoursEntry.Source.ADJUSTMENT,
                note="往期线下集中培训学时（演示数据）",
                earned_on=timezone.localdate() - datetime.timedelta(days=200),
            )
            Enrollment.objects.update_or_create(
                caregiver=caregiver, course=exam.course, defaults={"completed_at": timezone.now()}
            )
            attempt = exam_services.attempt_start(caregiver=caregiver, exam=exam)
            exam_services.attempt_answers_save(
                attempt=attempt,
                answers={
                    link.question_id: [choice.pk for choice in link.question.choices.all() if choice.is_correct]
                    for link in exam.exam_questions.select_related("question").prefetch_related("question__choices")
                },
            )
            exam_services.attempt_submit(attempt=attempt)
        evaluation_services.evaluation_apply(caregiver=candidates["caregiver02"], note="申请参加本年度星级评定")
        assigned = evaluation_services.evaluation_apply(caregiver=candidates["caregiver03"])
        evaluation_services.evaluation_assign(evaluation=assigned, assessor=assessor1, actor=admin)
        for username in ("caregiver05", "caregiver06"):
            evaluation = evaluation_services.evaluation_apply(caregiver=candidates[username])
            evaluation_services.evaluation_assign(evaluation=evaluation, assessor=assessor1, actor=admin)
            eligibility = evaluation_selectors.evaluation_eligibility(evaluation=evaluation, practical_score=86)
            evaluation_services.evaluation_propose(
                evaluation=evaluation,
                assessor=assessor1,
                practical_score=86,
                level=eligibility.computed_level,
                observations="协助翻身、压疮预防操作规范（演示数据）",
            )
            if username == "caregiver06":
                evaluation_services.evaluation_confirm(evaluation=evaluation, reviewer=assessor2, note="同意")

    def certificate_template(self) -> CertificateTemplate:
        template, _created = CertificateTemplate.objects.get_or_create(
            name="晋城市护理员星级证书（演示模板）",
            defaults={"is_active": not CertificateTemplate.objects.filter(is_active=True).exists()},
        )
        return template

    def practicals(self, items) -> None:
        for code, title, pass_mark, steps in PRACTICALS:
            if PracticalTemplate.objects.filter(title=title).exists():
                continue
            template = PracticalTemplate.objects.create(service_item=items[code], title=title, pass_mark=pass_mark)
            for order, (text, points, critical) in enumerate(steps):
                PracticalStep.objects.create(
                    template=template, text=text, points=points, is_critical=critical, sort_order=order
                )
        # One candidate waiting for assessor1 (who works at another institution), for the walk-through.
        candidate = CaregiverProfile.objects.filter(user__username="caregiver01").first()
        assessor = User.objects.filter(username="assessor1").first()
        if candidate and assessor and not PracticalAssessment.objects.filter(caregiver=candidate).exists():
            practical_assign(
                template=PracticalTemplate.objects.get(title=PRACTICALS[0][1]),
                caregiver=candidate,
                assessor=assessor,
                assigned_by=User.objects.get(username="admin"),
            )

    def caregivers(self, rng: random.Random, institutions, count: int) -> None:
        today = datetime.date.today()
        for number in range(1, count + 1):
            username = f"caregiver{number:02d}"
            name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))
            gender = "F" if rng.random() < 0.8 else "M"
            institution = institutions[(number - 1) % len(institutions)]
            birth = datetime.date(rng.randrange(1966, 1998), rng.randrange(1, 13), rng.randrange(1, 29))
            national_id = demo_national_id(rng, institution.county.code, birth, gender)
            employed_since = today - datetime.timedelta(days=rng.randrange(100, 3650))
            prior_hours = Decimal(rng.randrange(16, 80))
            practitioner_level = rng.choice([0, 0, 0, 5, 5, 4])
            if User.objects.filter(username=username).exists():
                continue
            caregiver = account_services.caregiver_create(
                username=username,
                password=DEMO_PASSWORD,
                name=name,
                gender=gender,
                national_id=national_id,
                institution=institution,
                employed_since=employed_since,
                phone=f"1390356{number:04d}",
                practitioner_level=practitioner_level,
            )
            TrainingHoursEntry.objects.create(
                caregiver=caregiver,
                hours=prior_hours,
                source=TrainingHoursEntry.Source.ADJUSTMENT,
                note="往期线下集中培训学时（演示数据）",
                earned_on=employed_since + datetime.timedelta(days=60),
            )
