"""Certification's migrations are one straight line, and a database made by the migrations they replaced
(0001 … 0007, with two initials and two 0003s) keeps working: it counts them as applied and has the same schema
as a database migrated from nothing.

tests/data/database-0007.sql.gz is a SQLite dump of a database made by those migrations.
"""

import gzip
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.db.migrations.loader import MigrationLoader

ROOT = Path(settings.BASE_DIR)
DUMP = Path(__file__).resolve().parent.parent / "data" / "database-0007.sql.gz"


def _manage(database: Path, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(DATABASE_URL=f"sqlite:///{database}", DJANGO_SETTINGS_MODULE="config.settings.test")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def _shape(database: Path) -> dict:
    """Per certification table: columns, check constraints, foreign keys and indexes; and the triggers."""
    connection = sqlite3.connect(database)
    shape = {}
    tables = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE 'certification_%'"
    ).fetchall()
    for name, sql in tables:
        indexes = {
            (row[1], row[2], tuple(column[2] for column in connection.execute(f'PRAGMA index_info("{row[1]}")')))
            for row in connection.execute(f'PRAGMA index_list("{name}")')
            if not row[1].startswith("sqlite_autoindex")
        }
        shape[name] = (
            {tuple(row[1:]) for row in connection.execute(f'PRAGMA table_info("{name}")')},
            set(re.findall(r'CONSTRAINT "(\w+)" CHECK', sql)),
            {tuple(row[2:5]) for row in connection.execute(f'PRAGMA foreign_key_list("{name}")')},
            indexes,
        )
    shape["triggers"] = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    connection.close()
    return shape


def test_the_migrations_are_a_straight_line():
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    nodes = sorted(name for app, name in graph.nodes if app == "certification")
    assert nodes == ["0001_squashed_0006_star_evaluation_workflow", "0002_decided_evaluations_immutable"]
    assert graph.leaf_nodes("certification") == [("certification", "0002_decided_evaluations_immutable")]


def test_a_database_made_by_the_replaced_migrations_needs_nothing_more(tmp_path):
    existing = tmp_path / "existing.sqlite3"
    connection = sqlite3.connect(existing)
    connection.executescript(gzip.decompress(DUMP.read_bytes()).decode())
    connection.close()
    fresh = tmp_path / "fresh.sqlite3"

    plan = _manage(existing, "migrate", "--plan")
    migrated = _manage(existing, "migrate", "--noinput")
    from_nothing = _manage(fresh, "migrate", "--noinput")

    assert plan.returncode == 0, plan.stderr
    assert "No planned migration operations." in plan.stdout
    assert migrated.returncode == 0, migrated.stderr
    assert from_nothing.returncode == 0, from_nothing.stderr
    assert _shape(existing) == _shape(fresh)
    assert "certification_evaluation_decided_immutable" in _shape(fresh)["triggers"]
