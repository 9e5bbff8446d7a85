"""Synthetic national-scale data on PostgreSQL for the lesson page, coverage report and population benchmarks.

300,000 caregivers (BENCH_CAREGIVERS; institutions and counties scale with them) in 10,000 institutions across
500 counties, two required courses with about 390,000 enrolments, a standards library of 2,000 clauses and 300
service items, and 20 live courses citing part of it. The rows are written with INSERT … SELECT generate_series
in one transaction, so a database is either fully populated or left empty; a populated database is reused.
The population benchmark adds the rest of each caregiver's record once (`populate_star_records`).

Each benchmark runs in a child process (`python -m bench.<name> --worker`) whose DATABASE_URL points at the
benchmark database, so the parent's settings and database are never touched.
"""

import datetime
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


def caregiver_count() -> int:
    return int(os.environ.get("BENCH_CAREGIVERS", CAREGIVERS))


def institution_count() -> int:
    return min(INSTITUTIONS, max(1, caregiver_count() // 30))


def county_count() -> int:
    return min(COUNTIES, max(1, institution_count() // 20))


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


def populated_caregivers() -> int:
    from accounts.models import CaregiverProfile

    return CaregiverProfile.objects.filter(user__username__startswith="bench-caregiver-").count()


def populate() -> None:
    from django.db import connection, transaction

    if is_populated():
        held = populated_caregivers()
        if held != caregiver_count():
            raise SystemExit(
                f"the benchmark database holds {held:,} caregivers, not {caregiver_count():,} (BENCH_CAREGIVERS): "
                "drop it or name another one with BENCH_TRAINING_DATABASE_URL"
            )
        log(f"reusing the populated benchmark database ({held:,} caregivers)")
        return
    started = time.monotonic()
    with transaction.atomic():
        _populate_people()
        log(
            f"{caregiver_count():,} caregivers in {institution_count():,} institutions "
            f"({time.monotonic() - started:.0f} s)"
        )
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

    caregivers, institutions, counties = caregiver_count(), institution_count(), county_count()
    County.objects.bulk_create(
        [County(code=MARKER_COUNTY, name="基准标记")]
        + [County(code=f"B{number:05d}", name=f"基准县{number}") for number in range(1, counties + 1)]
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id) FROM {_table(County)} WHERE code LIKE 'B0%%'")
        first_county = cursor.fetchone()[0]
        cursor.execute(
            f"""
            INSERT INTO {_table(Institution)} (code, name, kind, county_id, address)
            SELECT 'B-I' || lpad(i::text, 6, '0'), '基准护理机构' || i,
                   (ARRAY['medical', 'elderly_care', 'home_care'])[1 + i %% 3], %s + (i %% {counties}), ''
            FROM generate_series(1, {institutions}) AS i
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
            FROM generate_series(1, {caregivers}) AS i
            """
        )
        _copy_national_ids(cursor, caregivers)
        cursor.execute(
            f"""
            INSERT INTO {_table(CaregiverProfile)} (user_id, gender, national_id, national_id_digest, institution_id,
                                                    employed_since, practitioner_level, credential_subject, photo)
            SELECT u.id, CASE WHEN u.n %% 5 = 0 THEN 'M' ELSE 'F' END, ids.token, ids.digest,
                   %s + (u.n %% {institutions}), DATE '2018-01-01' + (u.n %% 2000)::int, 0, gen_random_uuid(), ''
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM {_table(User)}
                  WHERE username LIKE 'bench-caregiver-%%') AS u
            JOIN bench_national_ids AS ids ON ids.n = u.n
            """,
            [first_institution],
        )
        cursor.execute("DROP TABLE bench_national_ids")


def _copy_national_ids(cursor, count: int) -> None:
    """Caregiver n's number (9 and n in 17 digits), as the application stores it: a Fernet token and its keyed hash,
    made here (SQL cannot) and copied into a temporary table for the INSERT … SELECT to join."""
    from accounts.national_id_crypto import national_id_digest, national_id_encrypt

    cursor.execute("CREATE TEMPORARY TABLE bench_national_ids (n bigint PRIMARY KEY, token text, digest varchar(64))")
    with cursor.cursor.copy("COPY bench_national_ids (n, token, digest) FROM STDIN") as copy:
        for n in range(1, count + 1):
            number = f"9{n:017d}"
            copy.write_row((n, national_id_encrypt(number), national_id_digest(number)))


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
        from content.demo import site_home

        home = site_home()
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


# --- The rest of each caregiver's record, for the star-level engine (population benchmark) ------------------

RECORDS_AS_OF = datetime.date(2026, 7, 1)
RECORDS_BATCH = "bench-star-records"
RULE_SET_NAME = "基准星级规则（示例）"
# Per level: hours, theory, practical, years, practitioner level, satisfaction %, complaints allowed, courses.
BENCH_RULES = [
    (1, "8", 60, 60, 0, 0, "0", None, 0),
    (2, "24", 70, 70, 2, 5, "80", 2, 0),
    (3, "40", 80, 80, 4, 4, "90", 0, 1),
    (4, "50", 85, 85, 6, 4, "95", 0, 2),
    (5, "60", 90, 90, 8, 3, "98", 0, 2),
]


def populate_star_records() -> None:
    """Training hours, exam attempts, practicals, 12 months of service figures and incidents for every caregiver,
    practitioner levels, and an illustrative five-level rule set. Written once, in one transaction."""
    from django.db import connection, transaction

    from certification.models import ServiceDataImport

    if ServiceDataImport.objects.filter(batch_key=RECORDS_BATCH).exists():
        log("reusing the caregivers' star-level records")
        return
    started = time.monotonic()
    with transaction.atomic():
        _populate_star_records()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(f"star-level records written in {time.monotonic() - started:.0f} s")


def _populate_star_records() -> None:
    from decimal import Decimal

    from django.db import connection

    from accounts import services as account_services
    from accounts.models import CaregiverProfile, Role
    from certification.models import (
        Exam,
        ExamAttempt,
        PracticalAssessment,
        PracticalTemplate,
        ServiceDataImport,
        ServiceIncident,
        ServiceMonth,
        StarLevelRule,
        StarRuleSet,
    )
    from content.models import ServiceItem
    from training.models import CoursePage, TrainingHoursEntry

    batch = ServiceDataImport.objects.create(
        source=ServiceDataImport.Source.API, batch_key=RECORDS_BATCH, payload_sha256="0" * 64
    )
    exam = Exam.objects.create(title="基准理论考试", pass_mark=60)
    item = ServiceItem.objects.order_by("pk").first()
    template = PracticalTemplate.objects.create(service_item=item, title="基准实操")
    assessor = account_services.user_create(
        username="bench-assessor", password="bench-password", name="基准考评员", role=Role.ASSESSOR
    )
    day = RECORDS_AS_OF.isoformat()
    caregivers = _table(CaregiverProfile)
    # hashint4 of the id (and of the row number k) spreads every figure over all institutions, reproducibly.
    statements = [
        (
            f"""
            UPDATE {caregivers}
            SET practitioner_level = (ARRAY[0, 0, 5, 5, 4, 3])[1 + abs(hashint4((id * 59)::int)) %% 6]
            """,
            [],
        ),
        # Three ledger lines each, 2.0 to 21.9 hours, over the last four years.
        (
            f"""
            INSERT INTO {_table(TrainingHoursEntry)} (caregiver_id, hours, source, lesson_completion_id,
                                                      attendance_id, note, earned_on)
            SELECT c.id, 2 + (abs(hashint4((c.id * 3 + k)::int)) %% 200) / 10.0, 'adjustment', NULL, NULL, '',
                   DATE %s - abs(hashint4((c.id * 7 + k)::int)) %% 1500
            FROM {caregivers} c CROSS JOIN generate_series(1, 3) AS k
            """,
            [day],
        ),
        # 80% sat the exam once, 40% twice; scores 40.0 to 99.9, passed from 60.
        (
            f"""
            INSERT INTO {_table(ExamAttempt)} (exam_id, caregiver_id, started_at, deadline, submitted_at,
                                               auto_submitted, score, passed)
            SELECT %s, c.id, v.t, v.t + interval '1 hour', v.t + interval '40 minutes', false, v.s, v.s >= 60
            FROM {caregivers} c CROSS JOIN generate_series(1, 2) AS k,
                 LATERAL (SELECT 40 + (abs(hashint4((c.id * 5 + k)::int)) %% 600) / 10.0 AS s,
                                 %s::timestamptz
                                     - (abs(hashint4((c.id * 11 + k)::int)) %% 1000) * interval '1 day' AS t) v
            WHERE abs(hashint4((c.id * 13 + k)::int)) %% 10 < CASE WHEN k = 1 THEN 8 ELSE 4 END
            """,
            [exam.pk, day],
        ),
        # 70% have a scored practical, 20% a second; one in twenty failed a critical step.
        (
            f"""
            INSERT INTO {_table(PracticalAssessment)} (template_id, caregiver_id, assessor_id, assigned_by_id,
                                                       assigned_at, scheduled_on, status, score, passed,
                                                       critical_failed, notes, scored_at)
            SELECT %s, c.id, %s, NULL, v.t, NULL, 'scored', v.s, v.s >= 60 AND NOT v.cf, v.cf, '', v.t
            FROM {caregivers} c CROSS JOIN generate_series(1, 2) AS k,
                 LATERAL (SELECT 50 + (abs(hashint4((c.id * 17 + k)::int)) %% 500) / 10.0 AS s,
                                 abs(hashint4((c.id * 19 + k)::int)) %% 20 = 0 AS cf,
                                 %s::timestamptz
                                     - (abs(hashint4((c.id * 11 + k)::int)) %% 900) * interval '1 day' AS t) v
            WHERE abs(hashint4((c.id * 23 + k)::int)) %% 10 < CASE WHEN k = 1 THEN 7 ELSE 2 END
            """,
            [template.pk, assessor.pk, day],
        ),
        # Three caregivers in four served each of the last 12 months; 0 to 5 surveys a month, one in five of
        # those months with one dissatisfied.
        (
            f"""
            INSERT INTO {_table(ServiceMonth)} (caregiver_id, month, service_hours, surveys, satisfied,
                                                imported_in_id)
            SELECT c.id, (DATE %s - k * interval '1 month')::date, 40 + abs(hashint4((c.id * 29 + k)::int)) %% 80, v.n,
                   v.n - LEAST(v.n, CASE WHEN abs(hashint4((c.id * 31 + k)::int)) %% 5 = 0 THEN 1 ELSE 0 END), %s
            FROM {caregivers} c CROSS JOIN generate_series(1, 12) AS k,
                 LATERAL (SELECT abs(hashint4((c.id * 37 + k)::int)) %% 6 AS n) v
            WHERE abs(hashint4((c.id * 41)::int)) %% 4 <> 0
            """,
            [day, batch.pk],
        ),
        # 15% have an incident in the last four years, 4% a second; half of them substantiated.
        (
            f"""
            INSERT INTO {_table(ServiceIncident)} (caregiver_id, reference, kind, occurred_on, substantiated,
                                                   summary, imported_in_id)
            SELECT c.id, 'B-INC-' || c.id || '-' || k,
                   (ARRAY['complaint', 'complaint', 'complaint', 'liability_accident', 'ethics_breach'])
                       [1 + abs(hashint4((c.id * 43 + k)::int)) %% 5],
                   DATE %s - abs(hashint4((c.id * 47 + k)::int)) %% 1400,
                   abs(hashint4((c.id * 53 + k)::int)) %% 2 = 0, '', %s
            FROM {caregivers} c CROSS JOIN generate_series(1, 2) AS k
            WHERE abs(hashint4((c.id * 61 + k)::int)) %% 100 < CASE WHEN k = 1 THEN 15 ELSE 4 END
            """,
            [day, batch.pk],
        ),
    ]
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)

    courses = list(CoursePage.objects.filter(slug__in=["course-0", "course-1"]).order_by("slug"))
    rule_set = StarRuleSet.objects.create(
        name=RULE_SET_NAME,
        version="bench",
        effective_from=datetime.date(2024, 1, 1),
        is_illustrative=True,
        training_hours_window_years=3,
        service_window_months=12,
        disqualifier_window_years=3,
    )
    for level, hours, theory, practical, years, practitioner, rate, complaints, course_count in BENCH_RULES:
        rule = StarLevelRule.objects.create(
            rule_set=rule_set,
            level=level,
            min_training_hours=Decimal(hours),
            min_theory_score=theory,
            min_practical_score=practical,
            min_years_of_service=years,
            min_practitioner_level=practitioner,
            min_satisfaction_rate=Decimal(rate),
            max_substantiated_complaints=complaints,
        )
        rule.required_courses.set(courses[:course_count])
        # A parental many-to-many is written when its rule is saved.
        rule.save()


def verified_client(username: str):
    """A test client signed in as `username` who has passed two-step verification as an administrator does: the
    code of their authenticator app (made here, once) on the verification page."""
    from django.test import Client
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    user = User.objects.get(username=username)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    # A code is taken once per time step: a run straight after another may use this step's code again.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    client = Client()
    client.force_login(user)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    response = client.post("/accounts/two-factor/verify/", {"otp_token": f"{code:0{device.digits}d}"})
    if response.status_code != 302:
        raise RuntimeError(f"two-step verification of {username} answered {response.status_code}")
    return client


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
