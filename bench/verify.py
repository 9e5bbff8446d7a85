"""Public certificate verification under load, with the rate limiter on.

A PostgreSQL database of its own for each run (a unique name on 127.0.0.1, dropped at the end), migrated and
seeded with certificates issued through the product's own services (rendered, signed, stored; some then revoked,
some superseded by a re-evaluation), served by gunicorn with the production settings and the rate limit shared
in Redis. Locust (bench/verify_locust.py) sends a fixed rate of lookups for each rate asked for: the verification
page, the JSON record, the number-and-name form and unknown codes (404 is the right answer there), from many
clients, each with its own loopback address and well under the limit, while one abusive client on one address asks
far faster than the limit allows. Every answer is checked: a page or record that does not show the certificate as
it stands is an error, as are a 5xx, a connection error and a 429 to a client under the limit; the abusive
client's 429s are expected, and more answers to it than the limit allows is an error.
"""

import json
import math
import os
import random
import resource
import secrets
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .harness import Row, percentile
from .serving import (
    BIN,
    PYTHON,
    ROOT,
    database_drop,
    database_recreate,
    free_port,
    gunicorn_start,
    gunicorn_stop,
    loopback_database_url,
    migrate_and_collect,
    postgres_answers,
    production_environment,
    wait_for_server,
)

NAME = "verify"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/carestar_verify"
TARGET_P95_MS = 50.0
TARGET_METRIC = "target p95 ≤ 50 ms, errors 0"
# A member of the public checks a certificate or two: six lookups a minute is already a busy one.
CLIENT_RATE = 0.1
ABUSIVE_RATE = 10.0
WARMUP_SECONDS = 15.0


def _env_list(name: str, default: str) -> list[float]:
    return [float(value) for value in os.environ.get(name, default).replace(",", " ").split()]


def add_arguments(parser) -> None:
    group = parser.add_argument_group("verify")
    group.add_argument(
        "--verify-rates",
        type=float,
        nargs="+",
        metavar="REQ_PER_S",
        default=_env_list("BENCH_VERIFY_RATES", "10 20 40 80 160"),
        help="lookups per second to hold, one measured step each",
    )
    group.add_argument(
        "--verify-seconds", type=float, default=float(os.environ.get("BENCH_VERIFY_SECONDS", "60")), help="per step"
    )
    group.add_argument(
        "--verify-certificates", type=int, default=int(os.environ.get("BENCH_VERIFY_CERTIFICATES", "300"))
    )


def _database_url() -> str:
    """The base URL with a name of this run's own: nothing else uses it, and it is dropped at the end."""
    parts = urlsplit(loopback_database_url("BENCH_VERIFY_DATABASE_URL", DEFAULT_DATABASE_URL))
    name = f"{parts.path.lstrip('/') or 'carestar_verify'}_{os.getpid()}_{secrets.token_hex(3)}"
    return urlunsplit(parts._replace(path=f"/{name}"))


# --- Seed (in a child process on the benchmark's database) --------------------------------------------------


def seed(*, count: int) -> dict:
    """`count` certificates issued as the worker issues them; one in twenty then revoked by an administrator and
    one in twenty superseded by a re-evaluation's certificate. Returns what the load generator looks up."""
    from django.utils import timezone

    from accounts import services as account_services
    from accounts.models import County, Institution, Role
    from certification.certificates.models import Certificate
    from certification.certificates.services import certificate_issue, certificate_revoke
    from certification.models import Evaluation, StarLevelRule, StarRuleSet

    from .decisions import decided_caregivers

    county = County.objects.create(code="140502", name="城区")
    institution = Institution.objects.create(code="BENCH-V", name="压测护理机构", kind="elderly_care", county=county)
    admin = account_services.user_create(
        username="bench-admin", password=secrets.token_urlsafe(), name="管理员", role=Role.ADMINISTRATOR
    )
    assessor = account_services.user_create(
        username="bench-assessor", password=secrets.token_urlsafe(), name="考评员", role=Role.ASSESSOR
    )
    rule_set = StarRuleSet.objects.create(name="压测", version="1", effective_from=timezone.localdate())
    StarLevelRule.objects.create(rule_set=rule_set, level=3)
    evaluations = decided_caregivers(
        count=count, institution=institution, assessor=assessor, rule_set=rule_set, prefix="verify"
    )
    started = time.monotonic()
    issued = [certificate_issue(evaluation_id=evaluation.pk, notify=False) for evaluation in evaluations]
    twentieth = max(1, count // 20)
    for certificate in issued[:twentieth]:
        certificate_revoke(certificate=certificate, actor=admin, reason="压测：吊销")
    for certificate in issued[twentieth : 2 * twentieth]:
        again = Evaluation.objects.create(
            caregiver=certificate.caregiver,
            assessor=assessor,
            rule_set=rule_set,
            practical_score=92,
            computed_level=3,
            level=3,
            status=Evaluation.Status.DECIDED,
            decided_at=timezone.now(),
        )
        certificate_issue(evaluation_id=again.pk, notify=False)
    seconds = time.monotonic() - started
    return {
        "certificates": [
            {"code": code, "serial_number": serial, "holder_name": name, "status": status}
            for code, serial, name, status in Certificate.objects.issued().values_list(
                "verification_code", "serial_number", "holder_name", "status"
            )
        ],
        "issue_seconds": seconds,
    }


# --- Checks of every answer (also used by the load generator, bench/verify_locust.py) -------------------------


def page_problem(response, certificate: dict) -> str | None:
    """Why the verification page does not show this certificate as it stands, or None."""
    text = response.text or ""
    if response.status_code != 200:
        return f"page answered {response.status_code}"
    if certificate["serial_number"] not in text:
        return "page without the certificate number"
    if certificate["status"] == "valid":
        if "status-valid" not in text or "status-invalid" in text:
            return "valid certificate not shown as valid"
    elif f"status-{certificate['status']}" not in text or "status-invalid" not in text:
        return f"{certificate['status']} certificate not shown as {certificate['status']}"
    return None


def json_problem(response, certificate: dict) -> str | None:
    """Why the JSON record does not say what this certificate is, or None."""
    if response.status_code != 200:
        return f"JSON answered {response.status_code}"
    try:
        record = response.json()
    except ValueError:
        return "JSON that does not parse"
    if record.get("serial_number") != certificate["serial_number"] or record.get("status") != certificate["status"]:
        return f"JSON says {record.get('serial_number')} {record.get('status')}"
    if record.get("is_valid") is not (certificate["status"] == "valid"):
        return "JSON validity does not match the status"
    return None


def lookup_problem(response, certificate: dict) -> str | None:
    """The number-and-name form must redirect to the certificate's page."""
    if response.status_code != 302:
        return f"lookup answered {response.status_code}"
    location = response.headers.get("Location", "")
    if not location.endswith(f"/verify/{certificate['code']}/"):
        return f"lookup led to {location}"
    return None


def unknown_problem(response) -> str | None:
    return None if response.status_code == 404 else f"unknown code answered {response.status_code}"


# --- Results ------------------------------------------------------------------------------------------------


def target_met(*, p95_ms: float, errors: int) -> bool:
    return p95_ms <= TARGET_P95_MS and errors == 0


def step_rows(summary: dict, *, rate: float, limit: int, load: dict, case: str | None = None) -> list[Row]:
    """Rows for one measured step from the load generator's summary (verify_locust.Recorder.summary)."""
    seconds = summary["measured_seconds"]
    visitors = summary["kinds"]["visitors"]
    abusive = summary["kinds"]["abusive"]
    latencies = visitors["latencies_ms"]
    requests = len(latencies)
    errors = sum(visitors["errors"].values())
    limited_visitors = visitors["statuses"].get("429", 0)
    abusive_requests = len(abusive["latencies_ms"])
    abusive_limited = abusive["statuses"].get("429", 0)
    abusive_errors = sum(abusive["errors"].values())
    allowed = summary["abusive_allowed_by_minute"]
    # The limiter's windows are whole minutes: the abusive client may have `limit` answers in each it touched.
    # (Counted over the run, not minute by minute: a request sent in a minute's last instant may be counted in
    # the next minute by the server.)
    over_limit = max(0, sum(allowed.values()) - limit * summary["abusive_windows"])
    all_errors = errors + abusive_errors + over_limit
    p50, p95, p99 = (percentile(latencies, f) if latencies else math.nan for f in (0.50, 0.95, 0.99))
    met = requests > 0 and target_met(p95_ms=p95, errors=all_errors)
    case = case or f"{rate:g} req/s asked, {summary['clients']} clients"
    extra = {
        "rate_asked": rate,
        "seconds": seconds,
        "clients": summary["clients"],
        "statuses": visitors["statuses"],
        "error_samples": {**visitors["errors"], **abusive["errors"]},
        "abusive_statuses": abusive["statuses"],
        "abusive_allowed_by_minute": allowed,
        "limit_per_minute": limit,
        "load_average": load,
    }
    return [
        Row(NAME, case, "throughput", requests / seconds, "req/s", extra),
        Row(NAME, case, "p50", p50, "ms"),
        Row(NAME, case, "p95", p95, "ms"),
        Row(NAME, case, "p99", p99, "ms"),
        Row(NAME, case, "requests", requests, ""),
        Row(NAME, case, "errors", all_errors, "", {"visitors": errors, "abusive": abusive_errors, "over": over_limit}),
        Row(NAME, case, "error rate", 100 * all_errors / (requests + abusive_requests or 1), "%"),
        Row(NAME, case, "429 to clients under the limit", limited_visitors, ""),
        Row(NAME, case, "abusive client: requests", abusive_requests, ""),
        Row(NAME, case, "abusive client: 429", abusive_limited, ""),
        Row(NAME, case, "abusive client: answered", abusive_requests - abusive_limited, "", {"limit": limit}),
        Row(NAME, case, "load average 1m (mean, max)", load["mean"], f"max {load['max']:.2f}"),
        # Less at the mercy of the machine's other work than the latencies: what each request cost the server.
        Row(
            NAME,
            case,
            "gunicorn CPU per request",
            1000 * load["server_cpu_seconds"] / summary["requests_total"] if summary["requests_total"] else math.nan,
            "ms",
            {"requests_including_warmup": summary["requests_total"]},
        ),
        Row(NAME, case, TARGET_METRIC, 1.0 if met else 0.0, "pass" if met else "MISS"),
    ]


def server_log_errors(text: str) -> list[str]:
    """The lines of gunicorn's and Django's output that report an error (not the 429 warnings)."""
    return [line for line in text.splitlines() if " ERROR " in line or "[ERROR]" in line or "Traceback" in line]


def _metric(rows: list[Row], metric: str) -> float:
    return next(row.value for row in rows if row.metric == metric)


def saturated(rows: list[Row], *, rate: float) -> bool:
    """The server fell behind the rate asked (a queue builds): a higher rate cannot meet the target."""
    return _metric(rows, "throughput") < 0.9 * rate


def best_rate_row(steps: list[tuple[float, list[Row]]]) -> Row:
    """The highest throughput of a step that met the target."""
    passed = [_metric(rows, "throughput") for _rate, rows in steps if _metric(rows, TARGET_METRIC) == 1.0]
    return Row(
        NAME,
        "all steps",
        "highest req/s with p95 ≤ 50 ms, errors 0",
        max(passed) if passed else 0.0,
        "req/s",
        {"steps_passed": len(passed), "steps": len(steps)},
    )


class LoadSampler:
    """The machine's 1-minute load average, every few seconds while the load runs."""

    def __init__(self, interval: float = 5.0):
        self.interval = interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])

    def figures(self) -> dict:
        return {
            "mean": sum(self.samples) / len(self.samples),
            "max": max(self.samples),
            "samples": [round(value, 2) for value in self.samples],
            "cpus": os.cpu_count(),
        }


# --- The run ------------------------------------------------------------------------------------------------


def process_tree_cpu_seconds(root: int) -> float:
    """User and system CPU time of a process and its descendants (gunicorn's master and workers) so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime and stime, fields 14 and 15 of stat
        pending.extend(int(child) for child in children)
    return total


def _step(
    *, port: int, server: int, rate: float, seconds: float, seed_file: Path, scratch: Path, block: int
) -> tuple[dict, dict]:
    clients = max(1, math.ceil(rate / CLIENT_RATE))
    summary_file = scratch / f"summary-{rate:g}.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = process_tree_cpu_seconds(server)
    started = time.monotonic()
    with LoadSampler() as sampler:
        subprocess.run(
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "bench" / "verify_locust.py"),
                "--headless",
                "--host",
                f"http://127.0.0.1:{port}",
                "--users",
                str(clients + 1),
                "--spawn-rate",
                str(max(clients / 5, 1)),
                "--run-time",
                f"{math.ceil(WARMUP_SECONDS + seconds + 2)}s",
                "--stop-timeout",
                "5",
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "BENCH_VERIFY_SEED_FILE": str(seed_file),
                "BENCH_VERIFY_CLIENT_RATE": str(CLIENT_RATE),
                "BENCH_VERIFY_ABUSIVE_RATE": str(ABUSIVE_RATE),
                "BENCH_VERIFY_ADDRESS_BLOCK": str(block),
                "BENCH_VERIFY_WARMUP": str(WARMUP_SECONDS),
                "BENCH_VERIFY_SECONDS": str(seconds),
                "BENCH_VERIFY_SUMMARY_FILE": str(summary_file),
                "PYTHONPATH": str(ROOT),
            },
            stdout=subprocess.DEVNULL,
            check=False,
        )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_seconds = process_tree_cpu_seconds(server) - server_before
    load = sampler.figures()
    load["load_generator_cpu_percent"] = round(
        100 * ((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) / wall, 1
    )
    load["server_cpu_seconds"] = round(server_seconds, 2)
    return json.loads(summary_file.read_text()), load


def run(*, repeat: int, options=None) -> list[Row]:
    from django.conf import settings

    rates = options.verify_rates if options else [10.0, 20.0, 40.0, 80.0, 160.0]
    seconds = options.verify_seconds if options else 60.0
    count = options.verify_certificates if options else 300
    workers = options.server_workers if options else 3
    threads = options.server_threads if options else 4
    url = _database_url()
    problem = postgres_answers(url)
    if problem:
        print(f"verify SKIPPED: PostgreSQL is not answering at {urlsplit(url).netloc} ({problem})")
        return [Row(NAME, "skipped: PostgreSQL not answering", "requests", 0, "", {"reason": problem})]

    port = int(os.environ.get("BENCH_VERIFY_PORT") or free_port())
    limit = settings.VERIFY_RATE_LIMIT_PER_MINUTE
    # A /16 of loopback addresses of this run's own, so that a run beside it never shares a client's count.
    block = random.randint(2, 254)
    database = urlsplit(url).path.lstrip("/")
    print(f"verify: preparing {database} with {count} certificates …", flush=True)
    database_recreate(url)
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory(prefix="carestar-verify-") as scratch_name:
            scratch = Path(scratch_name)
            env = production_environment(
                database_url=url,
                port=port,
                secret=secrets.token_urlsafe(40),
                var_dir=scratch / "var",
                cache_url=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/10"),
                broker_url=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/11"),
            )
            env["VERIFY_RATE_LIMIT_PER_MINUTE"] = str(limit)
            migrate_and_collect(env)
            seed_file = scratch / "seed.json"
            subprocess.run(
                [PYTHON, "-m", "bench.verify", "--seed", str(count), str(seed_file)], cwd=ROOT, env=env, check=True
            )
            seeded = json.loads(seed_file.read_text())
            statuses = {}
            for certificate in seeded["certificates"]:
                statuses[certificate["status"]] = statuses.get(certificate["status"], 0) + 1
            print(f"verify: issued {statuses} in {seeded['issue_seconds']:.0f} s", flush=True)
            # Django logs every 429 as a warning: the server's output goes to a file, its errors are counted.
            server_log = scratch / "gunicorn.log"
            steps = []
            with open(server_log, "w") as log:
                server = gunicorn_start(env, port=port, workers=workers, threads=threads, log=log)
                try:
                    wait_for_server(port, server)
                    for rate in rates:
                        print(f"verify: {rate:g} lookups/s for {WARMUP_SECONDS:g} + {seconds:g} s …", flush=True)
                        summary, load = _step(
                            port=port,
                            server=server.pid,
                            rate=rate,
                            seconds=seconds,
                            seed_file=seed_file,
                            scratch=scratch,
                            block=block,
                        )
                        step = step_rows(summary, rate=rate, limit=limit, load=load)
                        steps.append((rate, step))
                        if saturated(step, rate=rate):
                            print("verify: the server no longer keeps up; the higher rates are left out", flush=True)
                            break
                finally:
                    gunicorn_stop(server)
            server_errors = server_log_errors(server_log.read_text())
            if server_errors:
                print(
                    f"verify: the server logged {len(server_errors)} errors, the first:", *server_errors[:5], sep="\n"
                )
            server_setup = {
                "gunicorn": f"{workers} workers × {threads} threads (gthread)",
                "certificates": statuses,
                "rate_limit_per_minute": limit,
                "client_rate_per_s": CLIENT_RATE,
                "abusive_rate_per_s": ABUSIVE_RATE,
                "server_log_errors": server_errors[:20],
            }
            for _rate, step in steps:
                step[0].extra["setup"] = server_setup
                rows.extend(step)
            if len(steps) > 1:
                rows.append(best_rate_row(steps))
            rows.append(Row(NAME, "server", "errors in the server log", len(server_errors), "lines"))
    finally:
        database_drop(url)
    return rows


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--seed"]:
        import django

        django.setup()
        Path(sys.argv[3]).write_text(json.dumps(seed(count=int(sys.argv[2]))))
