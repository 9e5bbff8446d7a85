import os
import subprocess
import sys

from django.conf import settings

PROBE = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"


def run_with(env: dict[str, str], module: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "CACHE_URL"}}
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
    }
    result = run_with(env, "config.settings.production")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://carestar.example.gov.cn"


def test_language_and_time_zone():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _name in settings.LANGUAGES] == ["zh-hans", "en"]
    assert settings.TIME_ZONE == "Asia/Shanghai"
