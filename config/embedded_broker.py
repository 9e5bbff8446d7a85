"""Start the embedded broker (scripts/embedded-redis.sh) for a process that needs one outside `make run`:
the tests that run a real worker, and the benchmarks."""

import contextlib
import subprocess
import time
from pathlib import Path

from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "embedded-redis.sh"


def embedded_broker_in_use() -> bool:
    return settings.CELERY_BROKER_URL == f"redis+socket://{Path(settings.BROKER_DATA_DIR) / 'redis.sock'}"


@contextlib.contextmanager
def embedded_broker(*, timeout: float = 10.0):
    """Runs the embedded Redis under BROKER_DATA_DIR until the block ends; nothing when another broker is set."""
    if not embedded_broker_in_use():
        yield
        return
    directory = Path(settings.BROKER_DATA_DIR)
    socket = directory / "redis.sock"
    server = subprocess.Popen([str(SCRIPT), str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while not _answers(socket):
            if server.poll() is not None:
                raise RuntimeError(f"the embedded broker did not start: {server.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the embedded broker did not answer on {socket} within {timeout} s")
            time.sleep(0.05)
        yield
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _answers(socket: Path) -> bool:
    if not socket.exists():
        return False
    import redis

    try:
        return redis.Redis(unix_socket_path=str(socket), socket_timeout=1).ping()
    except redis.RedisError:
        return False
