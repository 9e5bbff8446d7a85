from django.core.management.base import BaseCommand

from training.services import course_citations_rebuild


class Command(BaseCommand):
    help = "Rebuild the index of what every live course cites (used by the standards coverage report)."

    def handle(self, *args, **options):
        count = course_citations_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Citations rebuilt for {count} courses."))
