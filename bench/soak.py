"""The soak test of `make run`: two hours (SOAK_SECONDS) of web requests, certificate issues, exam answers and
beat ticks, with one SIGKILL of the worker half way. Not part of the default `make bench`: run `make soak`.

Runs on its own VAR_DIR (var/bench/soak/) and port (SOAK_PORT, 8790) in a child process.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from .harness import Row

NAME = "soak"
ROOT = Path(__file__).resolve().parent.parent


def run(*, repeat: int) -> list[Row]:
    duration = float(os.environ.get("SOAK_SECONDS", "7200"))
    var_dir = ROOT / "var" / "bench" / "soak" / "var"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "VAR_DIR": str(var_dir)}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "BROKER_DATA_DIR", "SITE_URL", "MEDIA_ROOT"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "bench.soak_run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        timeout=duration + 3600,
    )
    if result.returncode != 0:
        print(result.stdout[-3000:], file=sys.stderr)
        raise RuntimeError("the soak test failed")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    case = f"make run for {figures['seconds'] / 60:.0f} min, SIGKILL of the worker half way"
    return [
        Row(NAME, case, "web probes (1/s)", figures["web_probes"], "requests"),
        Row(NAME, case, "web probes failed", figures["web_failures"], "requests"),
        Row(NAME, case, "web median", figures["web_median_ms"], "ms"),
        Row(NAME, case, "web p99", figures["web_p99_ms"], "ms"),
        Row(NAME, case, "web max", figures["web_max_ms"], "ms"),
        Row(NAME, case, "certificates queued", figures["certificates_queued"], "decisions"),
        Row(NAME, case, "task deliveries (a tenth twice)", figures["task_deliveries"], "messages"),
        Row(NAME, case, "certificates issued", figures["certificates_issued"], "certificates"),
        Row(NAME, case, "decisions with two or more", figures["decisions_with_two_or_more"], "decisions"),
        Row(NAME, case, "decisions without a certificate", figures["decisions_without"], "decisions"),
        Row(NAME, case, "exam answers saved", figures["answers_saved"], "answers"),
        Row(NAME, case, "exam answer errors", figures["answer_errors"], "answers"),
        Row(NAME, case, "exams submitted", figures["exams_submitted"], "attempts"),
        Row(NAME, case, "beat ticks of the 1-minute job", figures["beat_ticks"], "ticks"),
        Row(NAME, case, "certificate tasks queued again by beat", figures["requeued_by_beat"], "tasks"),
        Row(NAME, case, "worker answering again after SIGKILL", figures["worker_back_after_s"], "s"),
        Row(
            NAME, case, "burst certificates held by the killed worker", figures["burst_waiting_after_restart"], "tasks"
        ),
        Row(NAME, case, "Ctrl-C to everything stopped", figures["stop_seconds"], "s"),
    ]
