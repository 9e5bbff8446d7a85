"""`make bench`: run the benchmarks, print a table, write JSON under bench/results/."""

import argparse
import inspect
import os
import sys

BENCHMARKS = [
    "certificates",
    "certificate_batch",
    "exam_day",
    "verify",
    "lesson_page",
    "coverage_report",
    "population",
]
# Run only when asked for (`make soak`): it takes two hours.
ON_REQUEST = ["soak"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", choices=BENCHMARKS + ON_REQUEST, action="append", help="run only these benchmarks")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per case")
    from . import exam_day, verify

    exam_day.add_arguments(parser)
    verify.add_arguments(parser)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()

    from importlib import import_module

    from .harness import machine, print_table, write_results

    rows = []
    for name in args.only or BENCHMARKS:
        module = import_module(f"bench.{name}")
        if "options" in inspect.signature(module.run).parameters:
            rows.extend(module.run(repeat=args.repeat, options=args))
        else:
            rows.extend(module.run(repeat=args.repeat))
    print(f"machine: {machine()}")
    print_table(rows)
    path = write_results(rows, {"repeat": args.repeat, "options": {k: v for k, v in vars(args).items() if k != "only"}})
    print(f"results written to {path.relative_to(path.parents[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
