"""Chinese certificates: every character printed, fonts embedded, PDF/A-3b, small."""

import io
import re

import pytest
from pypdf import PdfReader

from certification.certificates.fonts import MissingGlyphsError, font_subsets
from certification.certificates.models import certificate_sample, default_template
from certification.certificates.rendering import certificate_render_pdf
from tests.pdf import glyph_mismatches, pdf_text, pdftotext

NAMES = [
    "王秀英",  # GB 2312
    "李喆",  # 喆: outside GB 2312
    "张堃",  # 堃: outside GB 2312
    "陈䶮",  # 䶮 U+4DAE: CJK Extension A
    "郑𠀾华",  # 𠀾 U+2003E: CJK Extension B
    "欧阳𪚥",  # 𪚥 U+2A6A5: CJK Extension B, far end
    "王䶶",  # 䶶 U+4DB6: Extension A, added in Unicode 13
    "林鿰",  # 鿰 U+9FF0: unified ideograph added in Unicode 14
    "周𠀁",  # 𠀁 U+20001: Extension B, not in the main family
]


def render(name: str) -> bytes:
    return certificate_render_pdf(certificate_sample(holder_name=name, star_level=4), template=default_template())


@pytest.mark.parametrize("name", NAMES)
def test_every_name_is_printed_with_its_own_glyphs(name):
    pdf = render(name)
    assert name in pdf_text(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert fonts and all(fonts.values()), f"every font must be embedded: {fonts}"


@pytest.mark.parametrize("name", NAMES)
def test_the_embedded_fonts_hold_the_glyph_under_each_number_the_page_draws(name):
    # A subset renumbers its glyphs; a CID-keyed CFF that kept the full font's CIDs would have MuPDF and
    # Ghostscript draw nothing, or boxes, where poppler and pdfium happen to draw the right glyph.
    assert glyph_mismatches(render(name)) == []


@pytest.mark.parametrize("level", range(1, 6))
def test_the_text_layer_has_the_filled_and_the_empty_stars_the_page_shows(level):
    pdf = certificate_render_pdf(certificate_sample(star_level=level), template=default_template())
    stars = "★" * level + "☆" * (5 - level)
    assert f"{stars}{level}星级护理员" in pdf_text(pdf)
    assert f"{stars}{level}星级护理员" in pdftotext(pdf)
    assert glyph_mismatches(pdf) == []


def test_rare_characters_come_from_a_fallback_font():
    families = {subset.css_family for subset in font_subsets("周𠀁")}
    assert "CertificateText" in families
    assert any(family.startswith("CertificateFallback") for family in families)


def test_a_character_no_font_has_is_refused_before_anything_is_issued():
    with pytest.raises(MissingGlyphsError) as error:
        render("王\U0010fffd")  # a private-use character: no installed font draws it
    assert "\U0010fffd" in error.value.characters


def test_the_pdf_is_pdf_a_3b_and_small():
    pdf = render("王秀英")
    reader = PdfReader(io.BytesIO(pdf))
    metadata = reader.xmp_metadata
    assert metadata is not None
    xml = metadata.stream.get_data().decode()
    assert re.search(r'pdfaid:part(="|>)3', xml)
    assert re.search(r'pdfaid:conformance(="|>)B', xml)
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert len(pdf) < 300 * 1024


def test_only_the_documents_own_resources_are_loaded(settings):
    from certification.certificates.rendering import DocumentResources

    resources = DocumentResources()
    url = resources.add(b"font bytes", "font/otf")
    assert resources.fetch(url).status == 200
    with pytest.raises(ValueError):
        resources.fetch("carestar-resource:unknown")
