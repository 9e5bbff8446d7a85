"""The coverage reports in the Wagtail admin at national scale: 300,000 caregivers in 10,000 institutions and
500 counties, two required courses, 2,000 clauses and 300 service items (PostgreSQL)."""

import sys

from .harness import Row
from .synthetic import measure, run_in_child, worker_main

NAME = "coverage_report"


def run(*, repeat: int) -> list[Row]:
    return run_in_child("coverage_report", NAME, repeat=repeat)


def measurements(*, repeat: int) -> list[Row]:
    from .synthetic import verified_client

    client = verified_client("bench-admin")
    base = "/admin/reports/coverage"
    cases = [
        ("by institution, page 1", f"{base}/institutions/", repeat),
        ("by institution, lowest share first", f"{base}/institutions/?ordering=share", repeat),
        ("by county, page 1", f"{base}/counties/", repeat),
        ("clauses, page 1", f"{base}/clauses/", repeat),
        ("service items, page 1", f"{base}/service-items/", repeat),
        ("by institution, CSV of 10,000 rows", f"{base}/institutions/?export=csv", max(3, repeat // 6)),
    ]
    rows = []
    for case, url, runs in cases:
        rows += measure(client, url, repeat=runs, benchmark=NAME, case=case)
    return rows


if __name__ == "__main__":
    sys.exit(worker_main(measurements))
