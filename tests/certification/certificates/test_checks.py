import pytest
from django.core.exceptions import ImproperlyConfigured

from certification.certificates import checks


def test_a_working_setup_passes():
    assert checks.pdf_rendering_check(None) == []


def test_missing_harfbuzz_subset_fails_start_up(monkeypatch):
    from weasyprint.text import ffi

    monkeypatch.setattr(ffi, "harfbuzz_subset", None)
    errors = checks.pdf_rendering_check(None)
    assert [error.id for error in errors] == ["carestar.E002"]
    with pytest.raises(ImproperlyConfigured, match="libharfbuzz-subset"):
        checks.pdf_rendering_ensure()


def test_missing_cjk_font_fails_start_up(settings):
    settings.CERTIFICATE_FONT_FAMILY = "No Such CJK Family"
    errors = checks.pdf_rendering_check(None)
    assert [error.id for error in errors] == ["carestar.E003"]


def test_installed_cjk_font_is_found():
    assert checks.font_family_installed("Noto Sans CJK SC")
    assert not checks.font_family_installed("No Such CJK Family")
