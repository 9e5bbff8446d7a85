"""A batch of 1,200 certificates (Jincheng's caregiver count) issued by 2 worker processes.

Runs on its own throw-away database and broker (SQLite and the embedded Redis under var/bench/, unless
BENCH_BATCH_DATABASE_URL and BENCH_BATCH_BROKER_URL name others), in a child process so that nothing touches the
dev data.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from .harness import Row

NAME = "certificate_batch"
ROOT = Path(__file__).resolve().parent.parent


def run(*, repeat: int) -> list[Row]:
    size = int(os.environ.get("BENCH_BATCH_SIZE", "1200"))
    var_dir = ROOT / "var" / "bench" / "batch"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "VAR_DIR": str(var_dir),
        "DATABASE_URL": os.environ.get("BENCH_BATCH_DATABASE_URL", f"sqlite:///{var_dir / 'batch.sqlite3'}"),
    }
    env.pop("CELERY_BROKER_URL", None)
    env.pop("BROKER_DATA_DIR", None)
    if os.environ.get("BENCH_BATCH_BROKER_URL"):
        env["CELERY_BROKER_URL"] = os.environ["BENCH_BATCH_BROKER_URL"]
    result = subprocess.run(
        [sys.executable, "-m", "bench.certificate_batch_run", str(size)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
        raise RuntimeError("the batch benchmark failed")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    case = f"{figures['issued']} certificates, 2 worker processes ({figures['database']}, {figures['broker']})"
    return [
        Row(NAME, case, "wall time", figures["seconds"], "s"),
        Row(NAME, case, "throughput", figures["issued"] / figures["seconds"], "cert/s"),
        Row(NAME, case, "worker peak RSS (sum)", figures["worker_peak_rss_mib"], "MiB"),
        Row(NAME, case, "failed", figures["failed"], "items"),
    ]
