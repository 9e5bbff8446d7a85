"""Synthetic national-scale training data on PostgreSQL for the lesson page and coverage report benchmarks.

300,000 caregivers in 10,000 institutions across 500 counties, two required courses with about 390,000
enrolments, a standards library of 2,000 clauses and 300 service items, and 20 live courses citing part of it.
The rows are written with INSERT … SELECT generate_series in one transaction, so a database is either fully
populated or left empty; a populated database is reused.

Each benchmark runs in a child process (`python -m bench.<name> --worker`) whose DATABASE_URL points at the
benchmark database, so the parent's settings and database are never touched.
"""

import json
import os
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from .harness import Row

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/carestar_training_bench"
CAREGIVERS = 300_000
INSTITUTIONS = 10_000
COUNTIES = 500
STANDARDS = 20
CLAUSES_PER_STANDARD = 100
SERVICE_ITEMS = 300
COURSES = 20
LESSONS_PER_COURSE = 4
MARKER_COUNTY = "BENCH-MARK"


def database_url() -> str:
    return os.environ.get("BENCH_TRAINING_DATABASE_URL", DEFAULT_URL)


def _maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def postgres_problem(url: str) -> str | None:
    """Why the benchmark database cannot be used, or None. Creates the database when it is missing."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a pinned requirement
        return "psycopg is not installed"
    name = urlsplit(url).path.lstrip("/")
    try:
        with psycopg.connect(_maintenance_url(url), connect_timeout=3, autocommit=True) as connection:
            exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        return f"PostgreSQL is not answering at {urlsplit(url).netloc} ({str(error).strip().splitlines()[0]})"
    return None


def skipped(benchmark: str, reason: str) -> list[Row]:
    print(f"{benchmark}: skipped — {reason}", file=sys.stderr)
    return [Row(benchmark, f"skipped: {reason.split(' (')[0]}", "skipped", 0.0, "", {"reason": reason})]


def run_in_child(module: str, benchmark: str, *, repeat: int) -> list[Row]:
    """Run `bench.<module>` in worker mode against the benchmark database and collect its rows."""
    url = database_url()
    problem = postgres_problem(url)
    if problem:
        return skipped(benchmark, problem)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", "--worker", "--repeat", str(repeat)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return skipped(benchmark, f"the benchmark process failed with exit code {result.returncode}")
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    return [Row(**row) for row in payload]


def worker_setup() -> None:
    """In the child: Django on the benchmark database, migrated, populated, in production-like mode."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    log(f"schema ready in {time.monotonic() - started:.0f} s")
    populate()


def log(message: str) -> None:
    print(f"  [bench data] {message}", file=sys.stderr, flush=True)


def is_populated() -> bool:
    from accounts.models import County

    return County.objects.filter(code=MARKER_COUNTY).exists()


def populate() -> None:
    from django.db import connection, transaction

    if is_populated():
        log("reusing the populated benchmark database")
        return
    started = time.monotonic()
    with transaction.atomic():
        _populate_people()
        log(f"{CAREGIVERS:,} caregivers in {INSTITUTIONS:,} institutions ({time.monotonic() - started:.0f} s)")
        required = _populate_library_and_courses()
        log(f"standards, service items and {COURSES} courses ({time.monotonic() - started:.0f} s)")
        _populate_enrollments(required)
        log(f"enrolments in the required courses ({time.monotonic() - started:.0f} s)")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"populated in {time.monotonic() - started:.0f} s")


def _table(model) -> str:
    return model._meta.db_table


def _populate_people() -> None:
    from django.db import connection

    from accounts.models import CaregiverProfile, County, Institution, User

    County.objects.bulk_create(
        [County(code=MARKER_COUNTY, name="基准标记")]
        + [County(code=f"B{number:05d}", name=f"基准县{number}") for number in range(1, COUNTIES + 1)]
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id) FROM {_table(County)} WHERE code LIKE 'B0%%'")
        first_county = cursor.fetchone()[0]
        cursor.execute(
            f"""
            INSERT INTO {_table(Institution)} (code, name, kind, county_id, address)
            SELECT 'B-I' || lpad(i::text, 6, '0'), '基准护理机构' || i,
                   (ARRAY['medical', 'elderly_care', 'home_care'])[1 + i %% 3], %s + (i %% {COUNTIES}), ''
            FROM generate_series(1, {INSTITUTIONS}) AS i
            """,
            [first_county],
        )
        cursor.execute(f"SELECT min(id) FROM {_table(Institution)} WHERE code LIKE 'B-I%%'")
        first_institution = cursor.fetchone()[0]
        cursor.execute(
            f"""
            INSERT INTO {_table(User)} (password, last_login, is_superuser, username, first_name, last_name, email,
                                        is_staff, is_active, date_joined, name, role, phone, institution_id,
                                        training_body_id)
            SELECT '!', NULL, false, 'bench-caregiver-' || i, '', '', '', false, true, now(), '基准护理员' || i,
                   'caregiver', '', NULL, NULL
            FROM generate_series(1, {CAREGIVERS}) AS i
            """
        )
        cursor.execute(
            f"""
            INSERT INTO {_table(CaregiverProfile)} (user_id, gender, national_id, institution_id, employed_since,
                                                    practitioner_level)
            SELECT u.id, CASE WHEN u.n %% 5 = 0 THEN 'M' ELSE 'F' END, '9' || lpad(u.n::text, 17, '0'),
                   %s + (u.n %% {INSTITUTIONS}), DATE '2018-01-01' + (u.n %% 2000)::int, 0
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM {_table(User)}
                  WHERE username LIKE 'bench-caregiver-%%') AS u
            """,
            [first_institution],
        )


def _lesson_body(clauses, items, number: int) -> list[dict]:
    body = [{"type": "heading", "value": {"text": f"第 {number} 部分", "level": "h2"}}]
    for position in range(10):
        clause = clauses[(number * 10 + position) % len(clauses)]
        item = items[(number * 10 + position) % len(items)]
        body += [
            {"type": "paragraph", "value": f"<p>第 {position + 1} 个要点的讲解。</p>"},
            {"type": "clause_citation", "value": {"clause": clause.pk, "comment": "依据条款"}},
            {"type": "procedure", "value": {"service_item": item.pk, "note": ""}},
            {
                "type": "self_check",
                "value": {
                    "question": f"第 {position + 1} 题：下列做法是否正确？",
                    "options": [{"text": "正确", "correct": True}, {"text": "错误", "correct": False}],
                    "explanation": "见所引条款。",
                },
            },
        ]
    body.append(
        {"type": "key_points", "value": {"title": "要点", "points": ["规范操作", "及时记录", "发现异常及时报告"]}}
    )
    return body


def _populate_library_and_courses() -> list[int]:
    from decimal import Decimal

    from accounts import services as account_services
    from accounts.models import Role
    from content.models import Clause, HomePage, ServiceItem, Standard
    from training.models import CourseIndexPage, CoursePage, LessonPage, TrainingSettings
    from training.services import course_citations_rebuild

    standards = Standard.objects.bulk_create(
        [
            Standard(
                code=f"BENCH/T {number:03d}—2024",
                title=f"基准护理标准 {number}",
                issuing_body="基准",
                effective_date="2024-01-01",
            )
            for number in range(1, STANDARDS + 1)
        ]
    )
    clauses = Clause.objects.bulk_create(
        [
            Clause(
                standard=standard,
                number=f"{major}.{minor}",
                title=f"条款 {major}.{minor}",
                text="条文" * 20,
                sort_key=Clause.sort_key_for(f"{major}.{minor}"),
            )
            for standard in standards
            for major in range(1, 11)
            for minor in range(1, CLAUSES_PER_STANDARD // 10 + 1)
        ]
    )
    items = ServiceItem.objects.bulk_create(
        [
            ServiceItem(
                code=f"B-{number:04d}",
                name=f"服务项目 {number}",
                category="basic_nursing",
                steps="准备用物\n核对并解释\n规范操作\n整理并记录",
            )
            for number in range(1, SERVICE_ITEMS + 1)
        ]
    )

    home = HomePage.objects.first()
    if home is None:
        from content.management.commands.seed_demo import Command as SeedDemo

        home = SeedDemo().site_home()
    account_services.role_groups_ensure()
    bodies = [account_services.training_body_create(code=f"BENCH-T{n}", name=f"基准培训机构{n}") for n in range(5)]
    courses = []
    for number in range(COURSES):
        body = bodies[number % len(bodies)]
        index = CourseIndexPage.objects.filter(training_body=body).first() or home.add_child(
            instance=CourseIndexPage(title=f"{body.name}课程", slug=body.code.lower(), training_body=body)
        )
        course = index.add_child(
            instance=CoursePage(
                title=f"基准课程 {number}", slug=f"course-{number}", summary="基准课程", hours=Decimal("4.0")
            )
        )
        course.service_items.set(items[number * 5 : number * 5 + 5])
        course.save()
        for lesson_number in range(LESSONS_PER_COURSE):
            course.add_child(
                instance=LessonPage(
                    title=f"第 {lesson_number + 1} 课",
                    slug=f"lesson-{lesson_number + 1}",
                    minutes=45,
                    body=_lesson_body(clauses, items, number * 10 + lesson_number),
                )
            )
        courses.append(course)
    course_citations_rebuild()
    settings = TrainingSettings.load()
    settings.required_courses.set(courses[:2])

    admin = account_services.user_create(
        username="bench-admin", password="bench-password", name="基准管理员", role=Role.ADMINISTRATOR
    )
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    return [course.pk for course in courses[:2]]


def _populate_enrollments(required: list[int]) -> None:
    from django.db import connection

    from accounts.models import CaregiverProfile
    from training.models import Enrollment

    first, second = required
    with connection.cursor() as cursor:
        # 80% enrolled in the first required course and 70% completed it; 60% enrolled in the second and half
        # completed it. A hash of the id spreads both over every institution.
        cursor.execute(
            f"""
            INSERT INTO {_table(Enrollment)} (caregiver_id, course_id, source, batch_id, enrolled_at, completed_at)
            SELECT id, %s, 'self', NULL, now(), CASE WHEN abs(hashint4(id::int)) %% 10 < 7 THEN now() ELSE NULL END
            FROM {_table(CaregiverProfile)} WHERE abs(hashint4(id::int)) %% 10 < 8
            """,
            [first],
        )
        cursor.execute(
            f"""
            INSERT INTO {_table(Enrollment)} (caregiver_id, course_id, source, batch_id, enrolled_at, completed_at)
            SELECT id, %s, 'self', NULL, now(), CASE WHEN abs(hashint4(id::int + 1)) %% 10 < 5 THEN now() ELSE NULL END
            FROM {_table(CaregiverProfile)} WHERE abs(hashint4(id::int + 1)) %% 10 < 6
            """,
            [second],
        )


def measure(client, url: str, *, repeat: int, benchmark: str, case: str) -> list[Row]:
    """Median, p95 and spread of GET url, and the queries one request costs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .harness import summary_rows, timed_runs

    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        return response

    get()
    with CaptureQueriesContext(connection) as queries:
        get()
    # Counted now: every request empties the connection's query log when it starts.
    query_count = len(queries.captured_queries)
    durations = timed_runs(get, repeat=repeat, warmup=1)
    rows = summary_rows(benchmark, case, durations)
    rows.append(Row(benchmark, case, "queries per request", query_count, "queries"))
    return rows


def worker_main(run_measurements) -> int:
    """Entry point of `python -m bench.<name> --worker`: print the rows as JSON on the last line."""
    import argparse
    from dataclasses import asdict

    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true", required=True)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    worker_setup()
    rows = run_measurements(repeat=args.repeat)
    print(json.dumps([asdict(row) for row in rows], ensure_ascii=False))
    return 0
