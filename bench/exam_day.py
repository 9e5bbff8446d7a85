"""Exam day: a batch of caregivers start the same exam within a minute and answer it on their phones.

Locust (headless) drives gunicorn serving the production settings against PostgreSQL on 127.0.0.1, in a
database of its own that this benchmark drops, migrates and seeds on every run. Logging in is not part of the
measurement: each simulated caregiver arrives with a session made for it in the seed, as if logged in earlier.
"""

import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from .harness import Row
from .serving import (
    BIN,
    PYTHON,
    ROOT,
    database_recreate,
    gunicorn_start,
    gunicorn_stop,
    loopback_database_url,
    migrate_and_collect,
    postgres_answers,
    production_environment,
    wait_for_server,
)

NAME = "exam_day"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/carestar_bench"


def add_arguments(parser) -> None:
    group = parser.add_argument_group("exam_day")
    group.add_argument("--users", type=int, default=int(os.environ.get("BENCH_USERS", "2000")))
    group.add_argument("--questions", type=int, default=int(os.environ.get("BENCH_QUESTIONS", "6")))
    group.add_argument("--spawn-seconds", type=float, default=float(os.environ.get("BENCH_SPAWN_SECONDS", "60")))
    group.add_argument(
        "--think", type=float, nargs=2, metavar=("MIN", "MAX"), default=(30.0, 90.0), help="seconds per answer"
    )
    group.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8401")))
    group.add_argument("--server-workers", type=int, default=3)
    group.add_argument("--server-threads", type=int, default=4)


def _database_url() -> str:
    return loopback_database_url("BENCH_EXAM_DATABASE_URL", DEFAULT_DATABASE_URL)


def seed(*, users: int, questions: int) -> dict:
    """Run inside a process configured for the benchmark database: caregivers with sessions, a bank, an exam."""
    import datetime

    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from accounts.models import CaregiverProfile, County, Institution, Role, User
    from accounts.national_id import national_id_check_character
    from certification.models import Choice, Exam, ExamSection, Question

    county = County.objects.create(code="140502", name="城区")
    institution = Institution.objects.create(
        code="BENCH-1", name="压测护理机构", kind=Institution.Kind.ELDERLY_CARE, county=county
    )
    password = make_password(None)
    accounts = User.objects.bulk_create(
        User(username=f"bench{n:05d}", name=f"考生{n:05d}", role=Role.CAREGIVER, password=password)
        for n in range(users)
    )
    CaregiverProfile.objects.bulk_create(
        CaregiverProfile(
            user=user,
            gender="F",
            national_id=(first := f"1405021980{n // 1000 % 12 + 1:02d}{n // 100 % 28 + 1:02d}{n % 1000:03d}")
            + national_id_check_character(first),
            institution=institution,
            employed_since=datetime.date(2020, 1, 1),
        )
        for n, user in enumerate(accounts)
    )
    bank = Question.objects.bulk_create(
        Question(text=f"第 {n + 1} 题：卧床服务对象的护理要点？", kind=Question.Kind.SINGLE)
        for n in range(questions * 5)
    )
    Choice.objects.bulk_create(
        Choice(question=question, text=f"选项 {position}", is_correct=position == 1, sort_order=position)
        for question in bank
        for position in range(4)
    )
    exam = Exam.objects.create(title="压测理论考试", time_limit_minutes=180, max_attempts=1)
    ExamSection.objects.create(exam=exam, title="随机抽题", question_count=questions, sort_order=0)
    expires = timezone.now() + datetime.timedelta(days=1)
    sessions = []
    for user in accounts:
        key = secrets.token_hex(16)
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
        }
        sessions.append(Session(session_key=key, session_data=SessionStore().encode(data), expire_date=expires))
    Session.objects.bulk_create(sessions)
    return {"exam_id": exam.pk, "sessions": [session.session_key for session in sessions]}


def _server_counts(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as connection:
        attempts, submitted = connection.execute(
            "SELECT count(*), count(submitted_at) FROM certification_examattempt"
        ).fetchone()
        (answered,) = connection.execute(
            "SELECT count(*) FROM certification_attemptanswer WHERE answered_at IS NOT NULL"
        ).fetchone()
    return {"attempts": attempts, "submitted": submitted, "answers": answered}


def run(*, repeat: int, options=None) -> list[Row]:
    users = options.users if options else 2000
    questions = options.questions if options else 6
    spawn_seconds = options.spawn_seconds if options else 60.0
    think_min, think_max = options.think if options else (30.0, 90.0)
    port = options.port if options else 8401
    url = _database_url()
    problem = postgres_answers(url)
    if problem:
        print(f"exam_day SKIPPED: PostgreSQL is not answering at {urlsplit(url).netloc} ({problem})")
        return [Row(NAME, "skipped: PostgreSQL not answering", "users", 0, "", {"reason": problem})]

    print(f"exam_day: preparing {urlsplit(url).path.lstrip('/')} with {users} caregivers …", flush=True)
    database_recreate(url)
    with tempfile.TemporaryDirectory(prefix="carestar-bench-") as scratch:
        env = production_environment(
            database_url=url,
            port=port,
            secret=secrets.token_urlsafe(40),
            var_dir=Path(scratch) / "var",
            cache_url=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/10"),
            broker_url=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/11"),
        )
        migrate_and_collect(env)
        seed_file = Path(scratch) / "seed.json"
        subprocess.run(
            [PYTHON, "-m", "bench.exam_day", "--seed", str(users), str(questions), str(seed_file)],
            cwd=ROOT,
            env=env,
            check=True,
        )
        seeded = json.loads(seed_file.read_text())
        sessions_file = Path(scratch) / "sessions.json"
        sessions_file.write_text(json.dumps(seeded["sessions"]))

        server = gunicorn_start(
            env,
            port=port,
            workers=options.server_workers if options else 3,
            threads=options.server_threads if options else 4,
        )
        try:
            wait_for_server(port, server)
            run_time = int(spawn_seconds + questions * think_max + 15 + 120)
            print(
                f"exam_day: {users} caregivers start within {spawn_seconds:.0f} s, {questions} answers each "
                f"with {think_min:.0f}–{think_max:.0f} s think time (at most {run_time} s) …",
                flush=True,
            )
            started = time.monotonic()
            stats_prefix = Path(scratch) / "locust"
            subprocess.run(
                [
                    str(BIN / "locust"),
                    "-f",
                    str(ROOT / "bench" / "exam_day_locust.py"),
                    "--headless",
                    "--host",
                    f"http://127.0.0.1:{port}",
                    "--users",
                    str(users),
                    "--spawn-rate",
                    f"{users / spawn_seconds:.3f}",
                    "--run-time",
                    f"{run_time}s",
                    "--stop-timeout",
                    "5",
                    "--csv",
                    str(stats_prefix),
                    "--only-summary",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=ROOT,
                env={
                    **os.environ,
                    "BENCH_SESSIONS_FILE": str(sessions_file),
                    "BENCH_EXAM_ID": str(seeded["exam_id"]),
                    "BENCH_USERS": str(users),
                    "BENCH_THINK_MIN": str(think_min),
                    "BENCH_THINK_MAX": str(think_max),
                },
                check=False,
            )
            elapsed = time.monotonic() - started
            stats = list(csv.DictReader(open(f"{stats_prefix}_stats.csv")))
        finally:
            gunicorn_stop(server)
        counts = _server_counts(url)

    rows = []
    extra = {"users": users, "questions": questions, "think": [think_min, think_max], "spawn_seconds": spawn_seconds}
    for entry in stats:
        name = entry["Name"]
        if name == "Aggregated":
            continue
        count, failures = int(entry["Request Count"]), int(entry["Failure Count"])
        rows.append(Row(NAME, name, "median", float(entry["50%"]), "ms", {**extra, "requests": count}))
        rows.append(Row(NAME, name, "p95", float(entry["95%"]), "ms"))
        rows.append(Row(NAME, name, "requests", count, ""))
        rows.append(Row(NAME, name, "error rate", 100 * failures / count if count else 0, "%"))
    total = next((entry for entry in stats if entry["Name"] == "Aggregated"), None)
    if total:
        rows.append(Row(NAME, "all requests", "throughput", float(total["Requests/s"]), "req/s"))
        failures, count = int(total["Failure Count"]), int(total["Request Count"])
        rows.append(Row(NAME, "all requests", "error rate", 100 * failures / count if count else 0, "%"))
    rows.append(Row(NAME, "server", "attempts started", counts["attempts"], ""))
    rows.append(Row(NAME, "server", "attempts submitted", counts["submitted"], ""))
    rows.append(Row(NAME, "server", "answers stored", counts["answers"], ""))
    rows.append(Row(NAME, "run", "duration", elapsed, "s"))
    return rows


if __name__ == "__main__" and sys.argv[1:2] == ["--seed"]:
    import django

    django.setup()
    result = seed(users=int(sys.argv[2]), questions=int(sys.argv[3]))
    Path(sys.argv[4]).write_text(json.dumps(result))
