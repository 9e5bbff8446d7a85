import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("carestar")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each domain package keeps its own tasks module; every task names itself (name=...), so that beat schedules and
# messages already queued outlive a move of its module.
app.autodiscover_tasks()
app.autodiscover_tasks(["certification.certificates", "certification.exams", "certification.evaluations"])

# Tasks take ids and call one service; a failure (a locked database, a broker hiccup) is retried with backoff.
RETRYING = {"autoretry_for": (Exception,), "retry_backoff": 5, "retry_backoff_max": 300, "max_retries": 8}


@worker_init.connect
def refuse_broken_pdf_setup(**kwargs):
    from certification.certificates.checks import pdf_rendering_ensure

    pdf_rendering_ensure()


@worker_init.connect
def refuse_missing_national_id_keys(**kwargs):
    from accounts.national_id_crypto import national_id_keys_ensure

    national_id_keys_ensure()
