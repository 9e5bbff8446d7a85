"""`manage.py check --deploy` is clean with the production settings, as a deployment would run them, and fails
without the identity-number keys."""

import os
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from certification.certificates.signing import local_ca_create

    local_ca_create(tmp_path, issuer="晋城市医疗保障局")
    key = serialization.load_pem_private_key((tmp_path / "pdf-signing-key.pem").read_bytes(), None)
    certificate = x509.load_pem_x509_certificate((tmp_path / "pdf-signing.pem").read_bytes())
    ca = x509.load_pem_x509_certificate((tmp_path / "pdf-signing-ca.pem").read_bytes())
    bundle = tmp_path / "seal.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"seal", key, certificate, [ca], serialization.BestAvailableEncryption(b"pw")
        )
    )
    keep = {"PATH", "HOME", "LANG", "PYTHONPATH"}
    env = {key: value for key, value in os.environ.items() if key in keep}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="carestar.example.gov.cn",
        SITE_URL="https://carestar.example.gov.cn",
        CACHE_URL="redis://127.0.0.1:6379/1",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        VAR_DIR=str(tmp_path / "var"),
        PDF_SIGNING_PKCS12_FILE=str(bundle),
        PDF_SIGNING_PKCS12_PASSWORD="pw",
        OPENBADGES_SIGNING_KEY_FILE=str(tmp_path / "ob.pem"),
        NATIONAL_ID_KEYS=f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
        NATIONAL_ID_HASH_KEY=secrets.token_urlsafe(32),
    )
    from joserfc.jwk import OKPKey

    (tmp_path / "ob.pem").write_bytes(OKPKey.generate_key("Ed25519").as_pem(private=True))
    return env


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_deploy_check_passes_with_production_settings(production_env):
    result = deploy_check(production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"NATIONAL_ID_KEYS": None, "NATIONAL_ID_HASH_KEY": None}, "NATIONAL_ID_KEYS is not set"),
        ({"NATIONAL_ID_KEYS": "not-a-fernet-key"}, "key 1 of 1 is not a Fernet key"),
    ],
    ids=["no keys", "malformed key"],
)
def test_the_deploy_check_fails_without_the_identity_number_keys(production_env, change, complaint):
    env = {**production_env, **{name: value for name, value in change.items() if value is not None}}
    for name in [name for name, value in change.items() if value is None]:
        del env[name]
    # (Every other complaint is tested in-process: tests/accounts/test_national_id_encryption.py.)
    result = deploy_check(env)
    assert result.returncode != 0
    assert "carestar.E010" in result.stderr and complaint in result.stderr, result.stderr
    if "NATIONAL_ID_KEYS" in env:
        assert env["NATIONAL_ID_KEYS"] not in result.stdout + result.stderr  # the check never repeats a key
