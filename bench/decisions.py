"""Caregivers with decided evaluations waiting for their certificates, made in bulk for the benchmarks that issue
certificates (certificate_batch, soak)."""

import datetime


def decided_caregivers(
    *, count: int, institution, assessor, rule_set, prefix: str, password: str = "", decided: bool = True
) -> list:
    """`count` caregivers of `institution`, each with a decided 3-star evaluation; returns the evaluations.

    `decided=False` leaves each one proposed, for the caller to decide (`decide`) when it wants it decided.
    """
    from django.utils import timezone

    from accounts.models import CaregiverProfile, Role, User
    from accounts.national_id import national_id_check_character
    from certification.models import Evaluation

    surnames, given = "王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林", "秀英桂兰玉梅丽华建国志强海燕春燕红霞淑珍凤英文静"
    users = User.objects.bulk_create(
        User(
            username=f"{prefix}{n:05d}",
            password=password,
            name=surnames[n % 20] + given[n % 24] + given[(n * 7) % 24],
            role=Role.CAREGIVER,
        )
        for n in range(count)
    )
    base = datetime.date(1970, 1, 1)
    profiles = []
    for n, user in enumerate(users):
        # A distinct birth date per caregiver (over 27 years) keeps every identity number unique.
        first_17 = f"140502{(base + datetime.timedelta(days=n)):%Y%m%d}{n % 1000:03d}"
        profiles.append(
            CaregiverProfile(
                user=user,
                gender="F",
                national_id=first_17 + national_id_check_character(first_17),
                institution=institution,
                employed_since=timezone.localdate(),
            )
        )
    profiles = CaregiverProfile.objects.bulk_create(profiles)
    return Evaluation.objects.bulk_create(
        Evaluation(
            caregiver=profile,
            assessor=assessor,
            rule_set=rule_set,
            practical_score=90,
            computed_level=3,
            level=3,
            status=Evaluation.Status.DECIDED if decided else Evaluation.Status.PROPOSED,
            decided_at=timezone.now() if decided else None,
        )
        for profile in profiles
    )


def decide(evaluation_ids: list[int]) -> None:
    """Decide proposed evaluations now, as the second reviewer's confirmation would."""
    from django.utils import timezone

    from certification.models import Evaluation

    Evaluation.objects.filter(pk__in=evaluation_ids, status=Evaluation.Status.PROPOSED).update(
        status=Evaluation.Status.DECIDED, decided_at=timezone.now()
    )
