"""The verification load test's judgement: the content checks it applies to every answer, and the rows it makes
of the load generator's summary (bench/verify.py)."""

import pytest

from bench.verify import (
    TARGET_METRIC,
    best_rate_row,
    json_problem,
    lookup_problem,
    page_problem,
    saturated,
    server_log_errors,
    step_rows,
    unknown_problem,
)
from certification.certificates import services as certificate_services

LOAD = {"mean": 1.5, "max": 2.0, "samples": [1.5], "cpus": 2, "server_cpu_seconds": 7.0}


def expected(certificate) -> dict:
    return {
        "code": certificate.verification_code,
        "serial_number": certificate.serial_number,
        "holder_name": certificate.holder_name,
        "status": certificate.status,
    }


@pytest.mark.django_db
def test_a_valid_certificate_passes_the_page_and_json_checks_and_fails_them_as_anything_else(client, certificate):
    page = client.get(f"/verify/{certificate.verification_code}/")
    record = client.get(f"/verify/{certificate.verification_code}.json")
    assert page_problem(page, expected(certificate)) is None
    assert json_problem(record, expected(certificate)) is None
    as_revoked = {**expected(certificate), "status": "revoked"}
    assert page_problem(page, as_revoked) == "revoked certificate not shown as revoked"
    assert json_problem(record, as_revoked) is not None
    other = {**expected(certificate), "serial_number": "140500-2026-999999"}
    assert page_problem(page, other) == "page without the certificate number"


@pytest.mark.django_db
def test_a_revoked_certificate_shown_as_valid_is_a_wrong_answer(client, certificate, administrator):
    page_before = client.get(f"/verify/{certificate.verification_code}/")
    certificate_services.certificate_revoke(certificate=certificate, actor=administrator, reason="信息有误")
    certificate.refresh_from_db()
    page = client.get(f"/verify/{certificate.verification_code}/")
    record = client.get(f"/verify/{certificate.verification_code}.json")
    assert page_problem(page, expected(certificate)) is None
    assert json_problem(record, expected(certificate)) is None
    # A stale answer (the page from before the revocation) does not pass for the revoked certificate.
    assert page_problem(page_before, expected(certificate)) == "revoked certificate not shown as revoked"


@pytest.mark.django_db
def test_the_number_and_name_lookup_must_lead_to_the_certificate(client, certificate):
    found = client.get("/verify/", {"number": certificate.serial_number, "name": certificate.holder_name})
    assert lookup_problem(found, expected(certificate)) is None
    wrong_name = client.get("/verify/", {"number": certificate.serial_number, "name": "某某某"})
    assert lookup_problem(wrong_name, expected(certificate)) == "lookup answered 200"


@pytest.mark.django_db
def test_an_unknown_code_must_be_not_found(client, certificate):
    assert unknown_problem(client.get("/verify/no-such-code/")) is None
    assert unknown_problem(client.get("/verify/no-such-code.json")) is None
    assert unknown_problem(client.get(f"/verify/{certificate.verification_code}/")) == "unknown code answered 200"


def summary(latencies, *, statuses=None, errors=None, abusive_allowed=30, abusive_limited=570, windows=1) -> dict:
    return {
        "measured_seconds": 10.0,
        "clients": 100,
        "kinds": {
            "visitors": {
                "latencies_ms": latencies,
                "statuses": statuses or {"200": len(latencies)},
                "errors": errors or {},
            },
            "abusive": {
                "latencies_ms": [5.0] * (abusive_allowed + abusive_limited),
                "statuses": {"200": abusive_allowed, "429": abusive_limited},
                "errors": {},
            },
        },
        "abusive_allowed_by_minute": {"29000000": abusive_allowed},
        "abusive_windows": windows,
        "requests_total": 1000,
    }


def metrics(rows) -> dict:
    return {row.metric: row for row in rows}


def test_a_step_within_the_target_passes_with_its_figures():
    rows = metrics(step_rows(summary([10.0] * 95 + [40.0] * 5), rate=10, limit=30, load=LOAD))
    assert rows["throughput"].value == 10.0
    assert rows["p50"].value == 10.0 and rows["p99"].value == 40.0
    assert rows["errors"].value == 0 and rows["error rate"].value == 0
    assert rows["abusive client: 429"].value == 570 and rows["abusive client: answered"].value == 30
    assert rows["load average 1m (mean, max)"].value == 1.5
    assert rows["gunicorn CPU per request"].value == 7.0
    assert (rows[TARGET_METRIC].value, rows[TARGET_METRIC].unit) == (1.0, "pass")


def test_a_slow_p95_misses_the_target():
    rows = metrics(step_rows(summary([10.0] * 90 + [51.0] * 10), rate=10, limit=30, load=LOAD))
    assert rows["p95"].value == 51.0
    assert (rows[TARGET_METRIC].value, rows[TARGET_METRIC].unit) == (0.0, "MISS")


def test_one_wrong_answer_or_429_to_a_normal_client_misses_the_target():
    step = summary(
        [10.0] * 100,
        statuses={"200": 98, "429": 1, "500": 1},
        errors={"429 to a client under the limit": 1, "page answered 500": 1},
    )
    rows = metrics(step_rows(step, rate=10, limit=30, load=LOAD))
    assert rows["errors"].value == 2
    assert rows["error rate"].value == pytest.approx(100 * 2 / 700)
    assert rows["429 to clients under the limit"].value == 1
    assert rows[TARGET_METRIC].unit == "MISS"


def test_more_answers_to_the_abusive_client_than_its_minutes_allow_is_an_error():
    within = metrics(step_rows(summary([10.0] * 100, abusive_allowed=60, windows=2), rate=10, limit=30, load=LOAD))
    assert within["errors"].value == 0
    over = metrics(step_rows(summary([10.0] * 100, abusive_allowed=90, windows=2), rate=10, limit=30, load=LOAD))
    assert over["errors"].value == 30 and over["errors"].extra["over"] == 30
    assert over[TARGET_METRIC].unit == "MISS"


def test_the_best_rate_is_the_highest_throughput_of_a_passing_step():
    passing = step_rows(summary([10.0] * 100), rate=10, limit=30, load=LOAD)
    faster_passing = step_rows({**summary([10.0] * 200)}, rate=20, limit=30, load=LOAD)
    failing = step_rows(summary([90.0] * 400), rate=40, limit=30, load=LOAD)
    best = best_rate_row([(10, passing), (20, faster_passing), (40, failing)])
    assert best.value == 20.0 and best.extra == {"steps_passed": 2, "steps": 3}
    assert best_rate_row([(40, failing)]).value == 0.0


def test_the_server_log_errors_leave_out_the_rate_limit_warnings():
    log = "\n".join(
        [
            "2026-12-01 23:47:04,602 WARNING django.request Too Many Requests: /verify/abc/",
            "2026-12-01 23:47:05,100 ERROR django.request Internal Server Error: /verify/def/",
            "Traceback (most recent call last):",
            "[2026-12-01 23:47:06 +0800] [123] [ERROR] Exception in worker process",
        ]
    )
    assert len(server_log_errors(log)) == 3
    assert server_log_errors(log.splitlines()[0]) == []


def test_a_server_that_falls_behind_the_rate_asked_is_saturated():
    kept_up = step_rows(summary([10.0] * 95), rate=10, limit=30, load=LOAD)  # 9.5 req/s of 10
    behind = step_rows(summary([3000.0] * 80), rate=10, limit=30, load=LOAD)  # 8 req/s of 10
    assert not saturated(kept_up, rate=10)
    assert saturated(behind, rate=10)
