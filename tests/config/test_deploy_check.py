"""`manage.py check --deploy` is clean with the production settings, as a deployment would run them."""

import os
import secrets
import subprocess
import sys

from django.conf import settings


def test_the_deploy_check_passes_with_production_settings(tmp_path):
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
    )
    from joserfc.jwk import OKPKey

    (tmp_path / "ob.pem").write_bytes(OKPKey.generate_key("Ed25519").as_pem(private=True))
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
