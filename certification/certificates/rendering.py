"""Certificate HTML and PDF: pure functions of a certificate's frozen fields and a template. No query, no write."""

import hashlib
import io
import math
from dataclasses import dataclass

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


def _photo_url(resources: DocumentResources, certificate) -> str | None:
    if not certificate.holder_photo:
        return None
    with certificate.holder_photo.open("rb") as handle:
        return resources.add(handle.read(), "image/jpeg")


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    # One pixel per module, scaled up without smoothing by the page (image-rendering: pixelated); a fixed mask
    # spares the encoder's scoring of all eight, which costs more than the rest of the QR code.
    segno.make(url, error="m", mask=4, boost_error=False).save(buffer, kind="png", scale=1, border=2)
    return buffer.getvalue()


def seal_svg(issuer: str, *, font_family: str = "", caption: str = "证书专用章", color: str = "#c8102e") -> str:
    """The issuer's round seal, drawn when the template has no seal image: the name along the top arc, a star,
    the seal's purpose beneath. SVG, so that it is vector in the PDF; each character is placed on its own, as
    WeasyPrint draws no text on a path."""
    count = max(len(issuer), 1)
    span = min(250.0, 26.0 * count)
    characters = []
    for position, character in enumerate(issuer):
        angle = -90 - span / 2 + span * (position + 0.5) / count
        x = 100 + 70 * math.cos(math.radians(angle))
        y = 100 + 70 * math.sin(math.radians(angle))
        characters.append(
            format_html(
                '<text transform="translate({} {}) rotate({})" x="0" y="9" font-size="25">{}</text>',
                f"{x:.2f}",
                f"{y:.2f}",
                f"{angle + 90:.2f}",
                character,
            )
        )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" width="100%" height="100%">'
        '<g fill="{color}" text-anchor="middle" font-family="{font_family}">'
        '<circle cx="100" cy="100" r="94" fill="none" stroke="{color}" stroke-width="6"/>{characters}'
        '<text x="100" y="122" font-size="62">★</text>'
        '<text x="100" y="164" font-size="17">{caption}</text></g></svg>',
        color=color,
        font_family=font_family,
        characters=mark_safe("".join(characters)),
        caption=caption,
    )


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
        "seal_svg": None if template.seal else seal_svg(certificate.issuer),
        "signature_url": _image_url(resources, template.signature, "max-400x200|format-png"),
        "photo_url": _photo_url(resources, certificate),
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
        if context["seal_svg"]:
            context["seal_svg"] = seal_svg(certificate.issuer, font_family=context["font_stack"])
        return render_to_string("certificates/certificate.html", context), resources


@dataclass(frozen=True)
class RenderedCertificate:
    pdf: bytes
    # The seal's rectangle on the first page in PDF points (x1, y1, x2, y2, origin bottom left), where the
    # signature's widget goes; None for a layout without a seal.
    seal_box: tuple[float, float, float, float] | None


CREDENTIAL_FILENAME = "open-badge-credential.jwt"


def html_to_pdf(html: str, resources: DocumentResources, *, credential_jwt: str | None = None) -> RenderedCertificate:
    """PDF/A-3b; with `credential_jwt`, the Open Badges credential travels inside as an associated file."""
    from weasyprint import HTML, Attachment

    document = HTML(string=html, url_fetcher=resources).render()
    page = document.pages[0]
    seal_box = None
    if "seal" in page.anchors:
        left, top, right, bottom = page.anchors["seal"]
        points = 0.75  # per CSS pixel
        seal_box = (left * points, (page.height - bottom) * points, right * points, (page.height - top) * points)
    attachments = []
    if credential_jwt:
        attachments.append(
            Attachment(
                file_obj=io.BytesIO(credential_jwt.encode()),
                name=CREDENTIAL_FILENAME,
                description="Open Badges 3.0 电子凭证（VC-JWT），与本证书内容相同",
                relationship="Alternative",
            )
        )
    return RenderedCertificate(
        pdf=document.write_pdf(pdf_variant="pdf/a-3b", attachments=attachments, finisher=_associated_files_once),
        seal_box=seal_box,
    )


def _associated_files_once(document, pdf) -> None:
    """WeasyPrint lists each associated file twice in the catalogue's /AF (once from the name tree, once from
    its file specification); a file is associated once."""
    if "AF" in pdf.catalog:
        pdf.catalog["AF"][:] = list(dict.fromkeys(pdf.catalog["AF"]))


def certificate_render(certificate, *, template, credential_jwt: str | None = None) -> RenderedCertificate:
    return html_to_pdf(*certificate_document(certificate, template=template), credential_jwt=credential_jwt)


def certificate_render_pdf(certificate, *, template) -> bytes:
    """The unsigned PDF, for previews."""
    return certificate_render(certificate, template=template).pdf


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
