"""Certificate HTML and PDF: pure functions of a certificate's frozen fields and a template. No query, no write."""

import hashlib
import io

import segno
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import conditional_escape, format_html, strip_tags
from django.utils.safestring import mark_safe
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .fonts import font_stack, font_subsets

RESOURCE_SCHEME = "carestar-resource"


class DocumentResources(URLFetcher):
    """Serves a document's fonts and images from memory. Nothing else is fetched: no network, no files."""

    def __init__(self):
        super().__init__(allowed_protocols={RESOURCE_SCHEME}, fail_on_errors=True)
        self._resources: dict[str, tuple[bytes, str]] = {}

    def add(self, data: bytes, mime_type: str) -> str:
        key = hashlib.sha256(data).hexdigest()[:24]
        self._resources[key] = (data, mime_type)
        return f"{RESOURCE_SCHEME}:{key}"

    def fetch(self, url, headers=None):
        key = url.removeprefix(f"{RESOURCE_SCHEME}:")
        if key not in self._resources:
            raise ValueError(f"Certificates may not load outside resources: {url}")
        data, mime_type = self._resources[key]
        return URLFetcherResponse(url, body=data, headers={"Content-Type": mime_type})


def _statement_html(template, certificate) -> str:
    stars = format_html(
        '<span class="stars">{}<span class="empty">{}</span></span>',
        "★" * certificate.star_level,
        "☆" * (5 - certificate.star_level),
    )
    values = {
        "holder_name": format_html('<span class="holder">{}</span>', certificate.holder_name),
        "national_id": conditional_escape(certificate.holder_national_id_masked),
        "star_level": certificate.star_level,
        "stars": stars,
        "issuer": conditional_escape(certificate.issuer),
    }
    return mark_safe(conditional_escape(template.statement).format_map(values))


def _image_url(resources: DocumentResources, image, spec: str) -> str | None:
    if image is None:
        return None
    rendition = image.get_rendition(spec)
    with rendition.file.open("rb") as handle:
        data = handle.read()
    return resources.add(data, "image/png" if rendition.file.name.endswith(".png") else "image/jpeg")


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    # One pixel per module, scaled up without smoothing by the page (image-rendering: pixelated); a fixed mask
    # spares the encoder's scoring of all eight, which costs more than the rest of the QR code.
    segno.make(url, error="m", mask=4, boost_error=False).save(buffer, kind="png", scale=1, border=2)
    return buffer.getvalue()


def certificate_document(certificate, *, template) -> tuple[str, DocumentResources]:
    """The certificate's HTML and the resources (fonts, QR code, images) it refers to."""
    resources = DocumentResources()
    context = {
        "certificate": certificate,
        "template": template,
        "statement": _statement_html(template, certificate),
        "qr_url": resources.add(qr_png(certificate.verify_url), "image/png"),
        "background_url": _image_url(resources, template.background, "max-1754x1754|format-jpeg|jpegquality-70"),
        "seal_url": _image_url(resources, template.seal, "max-400x400|format-png"),
        "signature_url": _image_url(resources, template.signature, "max-400x200|format-png"),
        "font_stack": font_stack(),
        "font_faces": [],
    }
    # Certificates are official documents in Chinese whatever language the issuing request used.
    with translation.override("zh-hans"):
        draft = render_to_string("certificates/certificate.html", context)
        subsets = font_subsets(strip_tags(draft.split("</style>", 1)[-1]))
        context["font_faces"] = [
            (subset.css_family, subset.weight, resources.add(subset.data, "font/otf")) for subset in subsets
        ]
        # Only the families this document has: naming one it lacks sends Pango to fontconfig for a substitute
        # on every run of text (about a tenth of the render's instructions).
        context["font_stack"] = ", ".join(f'"{family}"' for family in dict.fromkeys(s.css_family for s in subsets))
        return render_to_string("certificates/certificate.html", context), resources


def html_to_pdf(html: str, resources: DocumentResources) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=resources).write_pdf(pdf_variant="pdf/a-3b")


def certificate_render_pdf(certificate, *, template) -> bytes:
    return html_to_pdf(*certificate_document(certificate, template=template))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
