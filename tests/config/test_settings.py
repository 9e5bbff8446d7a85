import os
import subprocess
import sys

from django.conf import settings

PROBE = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"


def run_with(env: dict[str, str], module: str) -> subprocess.CompletedProcess:
    unset = {"SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "CACHE_URL", "CELERY_BROKER_URL", "HOST", "PORT", "VAR_DIR"}
    clean = {k: v for k, v in os.environ.items() if k not in unset and not k.startswith("PDF_SIGNING_")}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env={**clean, **env, "DJANGO_SETTINGS_MODULE": module},
        capture_output=True,
        text=True,
    )


def test_production_refuses_to_start_without_its_secrets():
    result = run_with({}, "config.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_starts_with_them():
    env = {
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "carestar.example.gov.cn",
        "SITE_URL": "https://carestar.example.gov.cn/",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "PDF_SIGNING_PKCS12_FILE": "/etc/carestar/seal.p12",
    }
    result = run_with(env, "config.settings.production")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://carestar.example.gov.cn"


def test_production_signs_with_its_own_key_never_a_local_ca():
    env = {
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "carestar.example.gov.cn",
        "SITE_URL": "https://carestar.example.gov.cn/",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    }
    result = run_with(env, "config.settings.production")
    assert result.returncode != 0
    assert "Certificates must be signed in production" in result.stderr


def test_production_names_its_broker():
    env = {
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "carestar.example.gov.cn",
        "SITE_URL": "https://carestar.example.gov.cn/",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "PDF_SIGNING_PKCS12_FILE": "/etc/carestar/seal.p12",
    }
    result = run_with(env, "config.settings.production")
    assert result.returncode != 0
    assert "CELERY_BROKER_URL must be set" in result.stderr


def test_the_public_address_follows_the_port_make_run_serves_on(tmp_path):
    result = run_with({"PORT": "8123", "VAR_DIR": str(tmp_path / "var")}, "config.settings.dev")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://127.0.0.1:8123"


def test_a_wildcard_host_is_not_printed_in_public_addresses(tmp_path):
    result = run_with({"HOST": "0.0.0.0", "PORT": "9000", "VAR_DIR": str(tmp_path / "var")}, "config.settings.dev")
    assert result.stdout.strip() == "http://127.0.0.1:9000"


def test_a_missing_var_dir_is_created(tmp_path):
    var_dir = tmp_path / "not" / "yet" / "there"
    result = run_with({"VAR_DIR": str(var_dir)}, "config.settings.dev")
    assert result.returncode == 0, result.stderr
    assert var_dir.is_dir()


def test_the_embedded_broker_is_redis_on_a_socket_under_var_dir(tmp_path):
    probe = "import django; django.setup(); from django.conf import settings; print(settings.CELERY_BROKER_URL)"
    clean = {k: v for k, v in os.environ.items() if k not in {"CELERY_BROKER_URL", "BROKER_DATA_DIR"}}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=settings.BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip() == f"redis+socket://{tmp_path}/broker/redis.sock"


def test_language_and_time_zone():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _name in settings.LANGUAGES] == ["zh-hans", "en"]
    assert settings.TIME_ZONE == "Asia/Shanghai"
