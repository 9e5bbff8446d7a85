"""Demonstration data for accounts (counties, institutions, staff accounts and caregivers), modelled on Jincheng's
pilot; every record is marked as demo data and running it again changes nothing. `manage.py seed_demo` calls each
app's part in turn."""

import base64
import datetime
import random
from decimal import Decimal

from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services as account_services
from accounts.models import AssessorProfile, County, Institution, Role, User
from accounts.national_id import national_id_check_character

DEMO_PASSWORD = "carestar-demo"

# The demo's administrator and assessors pass two-step verification with this published key (base32, as an
# authenticator app takes it typed in) or these recovery codes, so that anyone may try the demo. Demo only: real
# accounts set up their own app, with a random key, and get random recovery codes.
DEMO_TOTP_SECRET = "CARESTARDEMOSECRETNOTFORREALUSE2"
DEMO_RECOVERY_CODES = ["demo0001", "demo0002", "demo0003", "demo0004", "demo0005"]
DEMO_SECOND_FACTOR_USERS = ["admin", "assessor1", "assessor2"]


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


SURNAMES = "王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"


GIVEN = "秀英桂兰玉梅丽华建国志强海燕春燕红霞淑珍凤英文静晓东小红卫东雪梅金凤明亮婷婷晨曦佳怡"


def demo_national_id(rng: random.Random, region: str, birth: datetime.date, gender: str) -> str:
    sequence = rng.randrange(0, 50) * 2 + (1 if gender == "M" else 0)
    first_17 = f"{region}{birth:%Y%m%d}{rng.randrange(0, 10)}{sequence:02d}"
    return first_17 + national_id_check_character(first_17)


def staff(institutions, bodies, groups) -> None:
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
    for user in User.objects.filter(username__in=DEMO_SECOND_FACTOR_USERS):
        second_factor(user)


def second_factor(user: User) -> None:
    """The demo key, unless the user has set up an app of their own, and the demo recovery codes among theirs
    (codes used since the last run are there again)."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        key = base64.b32decode(DEMO_TOTP_SECRET).hex()
        TOTPDevice.objects.create(user=user, name="演示身份验证器", key=key, confirmed=True)
    device = StaticDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name="演示恢复码", confirmed=True)
    present = set(device.token_set.values_list("token", flat=True))
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=code) for code in DEMO_RECOVERY_CODES if code not in present
    )


def caregivers(rng: random.Random, institutions, count: int) -> list[tuple]:
    """The demo caregivers not yet there, each with the training hours they bring from earlier classes."""
    today = datetime.date.today()
    created = []
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
        created.append((caregiver, prior_hours, employed_since + datetime.timedelta(days=60)))
    return created


def institutions() -> list[Institution]:
    counties = {code: County.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in COUNTIES}
    return [
        Institution.objects.get_or_create(
            code=code, defaults={"name": name + DEMO_MARK, "kind": kind, "county": counties[county]}
        )[0]
        for code, name, kind, county in INSTITUTIONS
    ]
