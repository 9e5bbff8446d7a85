"""Demonstration data modelled on Jincheng's pilot, every record marked as demo data. Safe to run again.

Each app seeds its own part (accounts/demo.py, content/demo.py, training/demo.py, certification/demo.py)."""

import random

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import demo as accounts_demo
from accounts import services as account_services
from accounts.models import CaregiverProfile, County, Institution
from certification import demo as certification_demo
from content import demo as content_demo
from training import demo as training_demo
from training.models import TrainingBatch


class Command(BaseCommand):
    help = "Load Jincheng-like demonstration data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--caregivers", type=int, default=50)

    @transaction.atomic
    def handle(self, *args, caregivers: int, **options):
        rng = random.Random(2022)
        groups = account_services.role_groups_ensure()
        home = content_demo.site_home()
        institutions = accounts_demo.institutions()
        clauses = content_demo.standards()
        items = content_demo.service_items(clauses)
        bodies = training_demo.training_bodies(home)
        accounts_demo.staff(institutions, bodies, groups)
        course = training_demo.first_course(bodies[0], clauses, items)
        second_course = training_demo.second_course(bodies[1], clauses, items)
        exam = certification_demo.exam(course, clauses)
        certification_demo.rule_set(required_course=course)
        certification_demo.certificate_template()
        training_demo.prior_training_hours(accounts_demo.caregivers(rng, institutions, caregivers))
        certification_demo.practicals(items)
        training_demo.training_settings(course)
        training_demo.batches(course, second_course)
        certification_demo.service_data(rng)
        certification_demo.evaluations(exam)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {County.objects.count()} counties, {Institution.objects.count()} institutions, "
                f"{CaregiverProfile.objects.count()} caregivers, courses «{course.title}» and "
                f"«{second_course.title}», {TrainingBatch.objects.count()} training batches, exam «{exam.title}»."
            )
        )
