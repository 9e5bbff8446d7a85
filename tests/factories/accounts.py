import datetime

import factory
from django.contrib.auth.models import Group
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AssessorProfile, CaregiverProfile, County, Institution, Role, TrainingBody, User
from accounts.national_id import national_id_check_character

PASSWORD = "test-password"


def valid_national_id(n: int, region: str = "140502", birth: str = "19800101") -> str:
    first_17 = f"{region}{birth}{n % 1000:03d}"
    return first_17 + national_id_check_character(first_17)


class CountyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = County
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"1405{n:02d}")
    name = factory.Sequence(lambda n: f"测试县{n}")


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    code = factory.Sequence(lambda n: f"INST-{n:05d}")
    name = factory.Sequence(lambda n: f"测试护理机构{n}")
    kind = Institution.Kind.ELDERLY_CARE
    county = factory.SubFactory(CountyFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"用户{n}")
    role = Role.CAREGIVER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CaregiverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaregiverProfile

    user = factory.SubFactory(UserFactory, role=Role.CAREGIVER)
    gender = CaregiverProfile.Gender.FEMALE
    national_id = factory.Sequence(lambda n: valid_national_id(n, birth=f"19{70 + n // 1000 % 30:02d}0101"))
    institution = factory.SubFactory(InstitutionFactory)
    employed_since = datetime.date(2018, 3, 1)
    practitioner_level = 0


class AssessorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssessorProfile

    user = factory.SubFactory(UserFactory, role=Role.ASSESSOR)
    institution = factory.SubFactory(InstitutionFactory)
    qualifications = "考评员资格"


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"group{n}")


class TrainingBodyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingBody

    code = factory.Sequence(lambda n: f"TB-{n}")
    name = factory.Sequence(lambda n: f"培训机构{n}")
    group = factory.SubFactory(GroupFactory)


def manager_for(institution: Institution, **kwargs) -> User:
    """An institution manager with access to the Wagtail admin (through the managers' group)."""
    from accounts import services

    user = UserFactory(role=Role.MANAGER, institution=institution, **kwargs)
    user.groups.add(services.role_groups_ensure()[Role.MANAGER])
    return user


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    """A confirmed authenticator app."""

    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(UserFactory)
    name = "测试身份验证器"
    confirmed = True


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the authenticator app shows now (or that many time steps later), as a person would type it."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift + steps_ahead)
    return f"{code:0{device.digits}d}"
