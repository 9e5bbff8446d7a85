"""Start-up checks: refuse to run where certificates would render slowly or with missing characters."""

from django.conf import settings
from django.core.checks import Error, Warning, register

CHECK_TAG = "carestar_pdf"


def weasyprint_has_harfbuzz_subset() -> bool:
    from weasyprint.text import ffi

    return ffi.harfbuzz_subset is not None


def font_family_installed(family: str) -> bool:
    """True when fontconfig resolves the family to itself rather than to a fallback."""
    from weasyprint.text.ffi import ffi, fontconfig

    config = fontconfig.FcInitLoadConfigAndFonts()
    pattern = fontconfig.FcPatternCreate()
    match = ffi.NULL
    try:
        fontconfig.FcPatternAddString(pattern, b"family", family.encode())
        fontconfig.FcConfigSubstitute(config, pattern, fontconfig.FcMatchPattern)
        fontconfig.FcDefaultSubstitute(pattern)
        result = ffi.new("FcResult *")
        match = fontconfig.FcFontMatch(config, pattern, result)
        if match == ffi.NULL:
            return False
        value = ffi.new("FcChar8 **")
        if fontconfig.FcPatternGetString(match, b"family", 0, value) != fontconfig.FcResultMatch:
            return False
        return ffi.string(value[0]).decode().casefold() == family.casefold()
    finally:
        if match != ffi.NULL:
            fontconfig.FcPatternDestroy(match)
        fontconfig.FcPatternDestroy(pattern)
        fontconfig.FcConfigDestroy(config)


@register(CHECK_TAG)
def pdf_rendering_check(app_configs, **kwargs):
    try:
        has_subset = weasyprint_has_harfbuzz_subset()
    except OSError as error:
        return [
            Error(
                f"WeasyPrint cannot load its system libraries: {error}",
                hint="Install Pango: apt-get install libpango-1.0-0 libpangoft2-1.0-0 (or run `make run`).",
                id="carestar.E001",
            )
        ]
    errors = []
    if not has_subset:
        errors.append(
            Error(
                "WeasyPrint cannot load libharfbuzz-subset: every Chinese certificate would take about ten seconds "
                "to render instead of a tenth of a second.",
                hint="apt-get install libharfbuzz-subset0 (or run `make run`).",
                id="carestar.E002",
            )
        )
    family = settings.CERTIFICATE_FONT_FAMILY
    if not font_family_installed(family):
        errors.append(
            Error(
                f"The CJK font family {family!r} used for certificates is not installed: Chinese text would "
                "render with missing glyphs.",
                hint="apt-get install fonts-noto-cjk, or set CERTIFICATE_FONT_FAMILY to an installed CJK family.",
                id="carestar.E003",
            )
        )
    for fallback in settings.CERTIFICATE_FALLBACK_FONT_FAMILIES:
        if not font_family_installed(fallback):
            errors.append(
                Warning(
                    f"The fallback font family {fallback!r} is not installed: certificates for names with rare "
                    "characters (CJK Extensions A and B) will be refused.",
                    hint="apt-get install fonts-hanazono, or set CERTIFICATE_FALLBACK_FONT_FAMILIES.",
                    id="carestar.W001",
                )
            )
    errors.extend(pdf_signing_check())
    errors.extend(serial_pattern_check())
    return errors


def serial_pattern_check() -> list:
    from .serials import pattern_problems

    return [
        Error(
            f"CERTIFICATE_SERIAL_PATTERN {settings.CERTIFICATE_SERIAL_PATTERN!r}: {problem}.",
            hint='The default is "{region}-{year}-{sequence:06d}".',
            id="carestar.E005",
        )
        for problem in pattern_problems(settings.CERTIFICATE_SERIAL_PATTERN)
    ]


def pdf_signing_check() -> list:
    from django.core.exceptions import ImproperlyConfigured

    from .signing import signing_certificate

    try:
        signing_certificate()
    except ImproperlyConfigured as error:
        return [Error(str(error), hint="See README, Configuration: PDF_SIGNING_*.", id="carestar.E004")]
    except Exception as error:  # a file unreadable, a token absent, a wrong PIN: say which, do not start
        return [
            Error(
                f"The certificate signing key cannot be loaded: {error!r}",
                hint="Check PDF_SIGNING_PKCS12_FILE / PDF_SIGNING_PKCS12_PASSWORD or the PKCS#11 settings.",
                id="carestar.E004",
            )
        ]
    return []


def pdf_rendering_ensure() -> None:
    """Refuse to start a process that renders certificates (WSGI server, Celery worker) on a broken setup."""
    from django.core.exceptions import ImproperlyConfigured

    errors = [error for error in pdf_rendering_check(None) if error.is_serious()]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{error.msg} ({error.hint})" for error in errors))
