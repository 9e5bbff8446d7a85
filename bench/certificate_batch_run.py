"""Child process of the batch benchmark: fresh database, synthetic decisions, a real 2-process worker."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


def rss_mib(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def process_tree(root: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(root)], capture_output=True, text=True).stdout.split()
    return [root, *[pid for child in children for pid in process_tree(int(child))]]


def main(size: int) -> None:
    var_dir = Path(os.environ["VAR_DIR"])
    if var_dir.exists():
        shutil.rmtree(var_dir)
    var_dir.mkdir(parents=True)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        # A clean slate on every run, migrations' data included (the root page, the root collection).
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", verbosity=0, interactive=False)
    from django.utils import timezone

    from accounts import services as account_services
    from accounts.models import County, Institution, Role
    from certification.models import StarLevelRule, StarRuleSet

    from .decisions import decided_caregivers

    county = County.objects.create(code="140502", name="城区")
    institution = Institution.objects.create(code="BENCH-1", name="基准测试机构", kind="elderly_care", county=county)
    admin = account_services.user_create(username="bench-admin", password="x", name="管理员", role=Role.ADMINISTRATOR)
    assessor = account_services.user_create(username="bench-assessor", password="x", name="考评员", role=Role.ASSESSOR)
    rule_set = StarRuleSet.objects.create(name="基准", version="1", effective_from=timezone.localdate())
    StarLevelRule.objects.create(rule_set=rule_set, level=3)
    decided_caregivers(count=size, institution=institution, assessor=assessor, rule_set=rule_set, prefix="bench")
    connection.close()

    from django.conf import settings

    from config.embedded_broker import embedded_broker

    with embedded_broker():
        progress, seconds, peak = _issue_batch(admin)
    print(
        json.dumps(
            {
                "issued": progress["issued"],
                "failed": progress["failed"],
                "seconds": seconds,
                "worker_peak_rss_mib": peak,
                "database": connection.vendor,
                "broker": settings.CELERY_BROKER_URL.split(":")[0],
            }
        )
    )


def _issue_batch(admin) -> tuple[dict, float, float]:
    from certification.certificates import selectors
    from certification.certificates import services as certificates

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--concurrency=2",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--hostname=bench@%h",
        ],
        env=os.environ,
    )
    try:
        time.sleep(3)  # let the pool start, so that its start-up is not counted
        start = time.monotonic()
        batch = certificates.certificate_batch_create(actor=admin, name="基准批次")
        peak = 0.0
        while True:
            progress = selectors.certificate_batch_progress(batch=batch)
            peak = max(peak, rss_mib(process_tree(worker.pid)))
            if progress["done"]:
                break
            if time.monotonic() - start > 1500:
                raise RuntimeError(f"batch not done after 25 minutes: {progress}")
            time.sleep(0.5)
        seconds = time.monotonic() - start
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    return progress, seconds, peak


if __name__ == "__main__":
    main(int(sys.argv[1]))
