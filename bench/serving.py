"""What the served benchmarks share (exam_day, verify): PostgreSQL on loopback, the production settings with the
keys and environment they demand, and gunicorn started on loopback and waited for."""

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# What the TLS-terminating proxy in front of gunicorn adds to every request; production trusts it
# (SECURE_PROXY_SSL_HEADER) and redirects any request without it to HTTPS.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def loopback_database_url(variable: str, default: str) -> str:
    url = os.environ.get(variable, default)
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"} or parts.hostname not in LOOPBACK:
        raise SystemExit(f"{variable} must name PostgreSQL on the loopback address, not {url}")
    return url


def postgres_answers(url: str) -> str | None:
    """None when PostgreSQL answers at the URL's server, else the first line of why not."""
    import psycopg

    parts = urlsplit(url)
    try:
        with psycopg.connect(parts._replace(path="/postgres").geturl(), connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return str(error).strip().splitlines()[0]


def _maintenance(url: str, *statements) -> None:
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def database_recreate(url: str) -> None:
    from psycopg import sql

    name = sql.Identifier(urlsplit(url).path.lstrip("/"))
    _maintenance(
        url,
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name),
        sql.SQL("CREATE DATABASE {}").format(name),
    )


def database_drop(url: str) -> None:
    from psycopg import sql

    _maintenance(url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(urlsplit(url).path[1:])))


def signing_keys_create(var_dir: Path, *, issuer: str, password: str) -> Path:
    """The keys production refuses to start without, made for one run: the issuer's PDF signing certificate as a
    PKCS#12 file (from a throw-away local CA) and the Open Badges Ed25519 key at its default place under VAR_DIR."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import pkcs12

    from certification.certificates.signing import local_ca_create

    keys = var_dir / "keys"
    local_ca_create(keys / "ca", issuer=issuer)
    key = serialization.load_pem_private_key((keys / "ca" / "pdf-signing-key.pem").read_bytes(), password=None)
    certificate = x509.load_pem_x509_certificate((keys / "ca" / "pdf-signing.pem").read_bytes())
    authority = x509.load_pem_x509_certificate((keys / "ca" / "pdf-signing-ca.pem").read_bytes())
    bundle = keys / "pdf-signing.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"carestar-bench",
            key,
            certificate,
            [authority],
            serialization.BestAvailableEncryption(password.encode()),
        )
    )
    (keys / "openbadges-ed25519.pem").write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return bundle


def production_environment(
    *, database_url: str, port: int, secret: str, var_dir: Path, cache_url: str, broker_url: str
) -> dict[str, str]:
    """config.settings.production with everything it requires, its files under `var_dir` (made here)."""
    from django.conf import settings

    password = secret[:20]
    bundle = signing_keys_create(var_dir, issuer=settings.CERTIFICATE_ISSUER, password=password)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "VAR_DIR": str(var_dir),
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "60",
        "SECRET_KEY": secret,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"https://127.0.0.1:{port}",
        "CACHE_URL": cache_url,
        # Nothing a benchmark does over HTTP queues a task, but production will not start without a broker.
        "CELERY_BROKER_URL": broker_url,
        "PDF_SIGNING_PKCS12_FILE": str(bundle),
        "PDF_SIGNING_PKCS12_PASSWORD": password,
        # Identity numbers are encrypted and looked up with keys of this run's own (production requires both).
        "NATIONAL_ID_KEYS": Fernet.generate_key().decode(),
        "NATIONAL_ID_HASH_KEY": secrets.token_urlsafe(32),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }


def migrate_and_collect(env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


def gunicorn_start(env: dict[str, str], *, port: int, workers: int, threads: int, log=None) -> subprocess.Popen:
    """gunicorn (gthread) on 127.0.0.1:`port`; its output to the open file `log` when given."""
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
    )


def gunicorn_stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def wait_for_server(port: int, process: subprocess.Popen, *, path: str = "/verify/", timeout: float = 60) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=PROXY_HEADERS)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited before answering")
        try:
            urllib.request.urlopen(request, timeout=2)
            return
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"gunicorn answers {error.code} on {path}") from error
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer on 127.0.0.1:{port}")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
