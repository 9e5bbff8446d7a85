"""The star-level engine over the whole population (PostgreSQL): every caregiver's computed level under an
illustrative five-level rule set, set-based in one query, beside the per-caregiver engine (caregiver_facts +
star_level_compute) on a random sample, extrapolated to the population, in the same run.

Each caregiver has training hours, exam attempts, practicals, 12 months of service figures for three in four,
incidents for about one in six, and enrolments in the required courses (bench/synthetic.py).
"""

import os
import random
import sys
import time

from .harness import Row, summary_rows, timed_runs
from .synthetic import RECORDS_AS_OF, RULE_SET_NAME, log, populate_star_records, run_in_child, worker_main

NAME = "population"


def run(*, repeat: int) -> list[Row]:
    return run_in_child("population", NAME, repeat=repeat)


def measurements(*, repeat: int) -> list[Row]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import CaregiverProfile
    from certification.models import StarRuleSet
    from certification.rules.eligibility import caregiver_facts, star_level_compute
    from certification.rules.population import star_level_distribution, star_levels_population

    populate_star_records()
    rule_set = StarRuleSet.objects.prefetch_related("levels__required_courses").get(name=RULE_SET_NAME, version="bench")
    today = RECORDS_AS_OF

    def population():
        return star_levels_population(rule_set=rule_set, today=today).values_list("pk", "computed_level")

    if os.environ.get("BENCH_POPULATION_EXPLAIN"):
        log("plan of the set-based query:\n" + population().explain(analyze=True, buffers=True))

    levels: dict[int, int] = {}

    def set_based():
        levels.clear()
        levels.update(population())

    runs = max(1, repeat // 10)
    with CaptureQueriesContext(connection) as queries:
        set_based()
    size = len(levels)
    durations = timed_runs(set_based, repeat=runs, warmup=0)
    set_based_case = f"set-based, all {size:,} caregivers"
    rows = summary_rows(NAME, set_based_case, durations)
    rows.append(Row(NAME, set_based_case, "queries", len(queries.captured_queries), "queries"))
    set_based_ms = min(durations)

    # PostgreSQL compiles a query this costly to machine code first (JIT), a fixed second or so: shown apart.
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
        if jit == "on":
            cursor.execute("SET jit = off")
            rows += summary_rows(NAME, f"{set_based_case}, JIT off", timed_runs(set_based, repeat=runs, warmup=0))
            cursor.execute("RESET jit")
    rows[0].extra["jit"] = jit

    distribution = {}

    def count_levels():
        distribution.update(star_level_distribution(rule_set=rule_set, today=today))

    durations = timed_runs(count_levels, repeat=runs, warmup=0)
    rows += summary_rows(NAME, "set-based distribution (GROUP BY level)", durations)

    sample_size = min(size, int(os.environ.get("BENCH_POPULATION_SAMPLE", "1000")))
    sample = random.Random(20260701).sample(sorted(levels), sample_size)
    caregivers = CaregiverProfile.objects.in_bulk(sample)
    with CaptureQueriesContext(connection) as queries:
        star_level_compute(
            facts=caregiver_facts(caregiver=caregivers[sample[0]], rule_set=rule_set, today=today), rule_set=rule_set
        )
    per_caregiver_queries = len(queries.captured_queries)
    sampled_levels = {}
    started = time.perf_counter()
    for pk in sample:
        facts = caregiver_facts(caregiver=caregivers[pk], rule_set=rule_set, today=today)
        sampled_levels[pk] = star_level_compute(facts=facts, rule_set=rule_set).computed_level
    sample_ms = (time.perf_counter() - started) * 1000
    extrapolated_ms = sample_ms / sample_size * size
    differing = sum(1 for pk, level in sampled_levels.items() if levels[pk] != level)

    per_case = f"per-caregiver, random sample of {sample_size:,}"
    rows += [
        Row(NAME, per_case, "total", sample_ms, "ms"),
        Row(NAME, per_case, "per caregiver", sample_ms / sample_size, "ms"),
        Row(NAME, per_case, "queries per caregiver", per_caregiver_queries, "queries"),
        Row(NAME, per_case, "levels differing from set-based", differing, "caregivers"),
        Row(NAME, f"per-caregiver, extrapolated to {size:,}", "total", extrapolated_ms, "ms"),
        Row(
            NAME,
            "per-caregiver ÷ set-based (fastest run)",
            "ratio",
            extrapolated_ms / set_based_ms,
            "×",
            {"distribution": {str(level): count for level, count in sorted(distribution.items())}},
        ),
    ]
    return rows


if __name__ == "__main__":
    sys.exit(worker_main(measurements))
