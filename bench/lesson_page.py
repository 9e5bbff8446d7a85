"""A lesson page of 42 blocks (10 clause citations, 10 procedures, 10 self-check questions …) as an enrolled
caregiver sees it, with 300,000 caregivers and 390,000 enrolments in the database (PostgreSQL)."""

import sys

from .harness import Row
from .synthetic import measure, run_in_child, worker_main

NAME = "lesson_page"


def run(*, repeat: int) -> list[Row]:
    return run_in_child("lesson_page", NAME, repeat=repeat)


def measurements(*, repeat: int) -> list[Row]:
    from django.test import Client

    from accounts.models import CaregiverProfile
    from training import services
    from training.models import CoursePage

    course = CoursePage.objects.get(slug="course-0")
    lesson = course.lessons().first()
    caregiver = CaregiverProfile.objects.select_related("user").order_by("pk").first()
    services.enrollment_create(caregiver=caregiver, course=course)
    client = Client()
    client.force_login(caregiver.user)
    blocks = len(lesson.body)
    return measure(client, lesson.url, repeat=repeat, benchmark=NAME, case=f"lesson with {blocks} blocks")


if __name__ == "__main__":
    sys.exit(worker_main(measurements))
