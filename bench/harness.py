"""A small benchmark harness: each benchmark returns rows; the runner prints a table and writes JSON."""

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass
class Row:
    benchmark: str
    case: str
    metric: str
    value: float
    unit: str
    extra: dict = field(default_factory=dict)


def timed_runs(function: Callable[[], object], *, repeat: int, warmup: int = 2) -> list[float]:
    """Milliseconds per call, after `warmup` untimed calls."""
    for _ in range(warmup):
        function()
    durations = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary_rows(benchmark: str, case: str, durations: list[float]) -> list[Row]:
    return [
        Row(benchmark, case, "median", statistics.median(durations), "ms"),
        Row(benchmark, case, "p95", percentile(durations, 0.95), "ms"),
        Row(benchmark, case, "stdev", statistics.pstdev(durations), "ms", {"runs": len(durations)}),
    ]


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1m": os.getloadavg()[0],
    }


def print_table(rows: list[Row]) -> None:
    headers = ("benchmark", "case", "metric", "value", "unit")
    table = [(r.benchmark, r.case, r.metric, f"{r.value:,.2f}", r.unit) for r in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *table, strict=False)]
    line = "  ".join(f"{{:<{width}}}" for width in widths)
    print(line.format(*headers))
    print(line.format(*("-" * width for width in widths)))
    for cells in table:
        print(line.format(*cells))


def write_results(rows: list[Row], meta: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = RESULTS_DIR / f"{stamp}.json"
    path.write_text(json.dumps({"machine": machine(), **meta, "rows": [asdict(r) for r in rows]}, indent=2))
    return path
