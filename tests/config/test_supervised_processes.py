"""`make run`'s supervisor (config/supervisord.conf): a process that dies is started again and takes no other down;
SIGINT, as Ctrl-C sends, stops them all."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PROGRAMS = ("broker", "web", "worker", "beat")

pytestmark = pytest.mark.worker


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Supervised:
    def __init__(self, var_dir: Path):
        self.var_dir = var_dir
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "BROKER_DATA_DIR", "SITE_URL", "MEDIA_ROOT"}
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="config.settings.dev",
            VAR_DIR=str(var_dir),
            BROKER_DATA_DIR=str(var_dir / "broker"),
            HOST="127.0.0.1",
            PORT=str(_free_port()),
        )
        # Every pid supervisord reported: each program leads its own process group, which the teardown ends.
        self.seen: set[int] = set()
        (var_dir / "log").mkdir(parents=True)
        (var_dir / "broker").mkdir()
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "supervisord"), "-c", str(ROOT / "config/supervisord.conf")],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def pids(self) -> dict[str, int]:
        result = subprocess.run(
            [str(Path(sys.executable).parent / "supervisorctl"), "-c", str(ROOT / "config/supervisord.conf"), "status"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        pids = {}
        for line in result.stdout.splitlines():
            name, state, *rest = line.split()
            if state == "RUNNING":
                pids[name] = int(rest[1].rstrip(","))
        self.seen.update(pids.values())
        return pids

    def stop(self) -> None:
        """Ctrl-C's way first; then whatever is left of any program, so that no test leaves a process behind."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in self.seen:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def wait_for(self, condition, *, timeout: float = 60.0) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.pids()
            if condition(pids):
                return pids
            time.sleep(0.2)
        raise AssertionError(f"supervisor state not reached within {timeout} s: {self.pids()}")


@pytest.fixture
def supervised(tmp_path):
    processes = Supervised(tmp_path / "var")
    yield processes
    processes.stop()


def test_a_killed_worker_is_started_again_and_the_others_keep_running(supervised):
    before = supervised.wait_for(lambda pids: set(PROGRAMS) <= set(pids))

    os.kill(before["worker"], signal.SIGKILL)
    after = supervised.wait_for(lambda pids: pids.get("worker") not in (None, before["worker"]))

    assert {name: after[name] for name in ("broker", "web", "beat")} == {
        name: before[name] for name in ("broker", "web", "beat")
    }


def test_a_killed_broker_or_beat_is_started_again(supervised):
    before = supervised.wait_for(lambda pids: set(PROGRAMS) <= set(pids))

    os.kill(before["broker"], signal.SIGKILL)
    os.kill(before["beat"], signal.SIGKILL)
    after = supervised.wait_for(
        lambda pids: (
            pids.get("broker") not in (None, before["broker"]) and pids.get("beat") not in (None, before["beat"])
        )
    )

    assert after["web"] == before["web"]
    assert after["worker"] == before["worker"]


def test_sigint_stops_every_process(supervised):
    running = supervised.wait_for(lambda pids: set(PROGRAMS) <= set(pids))

    os.kill(supervised.process.pid, signal.SIGINT)
    supervised.process.wait(timeout=60)

    alive = [name for name, pid in running.items() if _alive(pid)]
    assert supervised.process.returncode == 0
    assert alive == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
