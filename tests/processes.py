"""Project processes a test starts outside pytest, on the test's own database, files, keys and broker: the Celery
worker exactly as `make run` starts it (config/supervisord.conf), and manage.py or the scripts.

The worker runs in a process group of its own, so that a test can SIGKILL it with its pool children, as the
kernel's OOM killer or a power cut would; celery's in-thread test worker cannot be killed without killing pytest.
"""

import base64
import configparser
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def database_url(settings_dict: dict | None = None) -> str:
    """The DATABASE_URL of a connection's settings (the test database's, by default)."""
    database = settings_dict or connection.settings_dict
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    host = database["HOST"] or "127.0.0.1"
    return f"postgres://{credentials}@{host}:{database['PORT'] or 5432}/{database['NAME']}"


def project_env(**overrides: str) -> dict[str, str]:
    """The environment of a project process (development settings, as `make run`) that shares this test's
    database, media, private files, signing keys and broker; `overrides` point any of them elsewhere."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        SECRET_KEY=settings.SECRET_KEY,
        DATABASE_URL=database_url(),
        VAR_DIR=str(Path(settings.BROKER_DATA_DIR).parent),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PRIVATE_MEDIA_ROOT=str(settings.PRIVATE_MEDIA_ROOT),
        PDF_SIGNING_DIR=str(settings.PDF_SIGNING_DIR),
        OPENBADGES_SIGNING_KEY_FILE=str(settings.OPENBADGES_SIGNING_KEY_FILE),
        BROKER_DATA_DIR=str(settings.BROKER_DATA_DIR),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        SITE_URL=settings.SITE_URL,
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def worker_command(hostname: str) -> list[str]:
    """The worker's command line from config/supervisord.conf, under another node name."""
    config = configparser.RawConfigParser()
    config.read(ROOT / "config" / "supervisord.conf")
    line = config["program:worker"]["command"].replace("%(here)s", str(ROOT / "config")).replace("%%", "%")
    return [part for part in shlex.split(line) if not part.startswith("--hostname=")] + [f"--hostname={hostname}"]


class Worker:
    """One run of `make run`'s Celery worker; `log` collects what it prints."""

    def __init__(self, log: Path, **env: str):
        self.hostname = f"test-{uuid.uuid4().hex[:8]}@%h"
        self.log = log
        self.env = project_env(**env)
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 60) -> "Worker":
        """Starts the worker and returns once it answers a ping (its pool is up and it consumes)."""
        from config.celery import app

        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                worker_command(self.hostname),
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        name = self.hostname.replace("%h", os.uname().nodename)
        deadline = time.monotonic() + timeout
        while not app.control.ping(destination=[name], timeout=0.5):
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited with {self.process.returncode}:\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker did not answer within {timeout} s:\n{self.output()[-3000:]}")
        return self

    def kill(self) -> None:
        """SIGKILL to the worker's whole process group (the main process and its pool), and wait until it is gone."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._wait_group_gone()

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), as supervisord stops it; whatever is left after 30 s is killed."""
        if self.process is None or self.process.poll() is not None:
            self._kill_leftovers()
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        self._kill_leftovers()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def _kill_leftovers(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        if self.process.poll() is None:
            self.process.wait(timeout=30)
        self._wait_group_gone()

    def _wait_group_gone(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while group_members(self.process.pid):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"processes of the worker's group survived SIGKILL: {group_members(self.process.pid)}"
                )
            time.sleep(0.05)


def group_members(group: int) -> list[int]:
    """The live processes of a process group (a zombie, dead but not yet reaped, is not one)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state not in {"Z", "X"}:
            members.append(int(stat.parent.name))
    return members


def broker_held() -> list[tuple[str, list]]:
    """The messages workers hold without having acknowledged them, as (task name, arguments): what the broker
    delivers again after the visibility timeout if their worker is dead."""
    from config.celery import app

    with app.connection_for_write() as broker:
        values = broker.default_channel.client.hvals("unacked")
    held = []
    for value in values:
        message, _exchange, _routing_key = json.loads(value)
        body = message["body"]
        if message["properties"].get("body_encoding") == "base64":
            body = base64.b64decode(body)
        arguments, _keywords, _embed = json.loads(body)
        held.append((message["headers"]["task"], arguments))
    return held


def broker_reset() -> None:
    """Empties the broker's queue and its record of messages held by workers: a worker killed by an earlier test
    leaves messages there that would otherwise come back into this one."""
    from config.celery import app

    app.control.purge()
    with app.connection_for_write() as broker:
        broker.default_channel.client.delete("unacked", "unacked_index", "unacked_mutex")
