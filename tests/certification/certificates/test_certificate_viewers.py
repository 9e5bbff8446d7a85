"""An issued certificate looks the same in every common PDF renderer: MuPDF, Ghostscript (what CUPS prints with on
Linux) and pdfium (Chrome) draw what poppler draws, rare characters from the fallback fonts included."""

import pytest
from PIL import ImageChops, ImageFilter, ImageStat

from certification.certificates import services as certificates
from tests.factories.accounts import AssessorFactory, CaregiverFactory
from tests.factories.certification import decided_evaluation_for, rule_set
from tests.pdf import glyph_mismatches, page_image

pytestmark = pytest.mark.django_db

# 𠀀 U+20000 (Extension B, HanaMinA), 𠀁 U+20001 (Extension B, HanaMinB only), 㐀 U+3400 (Extension A).
RARE_NAME = "陈𠀀𠀁㐀"
DPI = 100
# Renderers differ in anti-aliasing and sub-pixel placement; a blur of 2 px evens that out. Agreeing renders of
# a certificate come out near 0.1, a page drawn without its text or with boxes for glyphs at 0.3 and more.
MAX_DISAGREEMENT = 0.2
# Every patch of the page where poppler puts ink gets about as much from the other renderer: not nothing (text
# missing), not twice as much (boxes or other glyphs).
TILE = 40
INK_RATIO = (0.5, 2.0)


@pytest.fixture
def issued_pdf(db):
    caregiver = CaregiverFactory(user__name=RARE_NAME)
    evaluation = decided_evaluation_for(
        caregiver=caregiver, assessor=AssessorFactory().user, rule_set=rule_set(), level=3
    )
    certificate = certificates.certificate_issue(evaluation_id=evaluation.pk)
    return certificate.pdf.read()


def _ink(image):
    return ImageChops.invert(image)


def _same_size(reference, image):
    # Ghostscript rounds the page's height down, the others up: compare the area both have.
    box = (0, 0, min(reference.width, image.width), min(reference.height, image.height))
    return _ink(reference.crop(box)), _ink(image.crop(box))


def ink_disagreement(reference, image) -> float:
    """The share of the two pages' ink that differs, from 0 (the same) to 1 (nothing in common)."""
    reference, image = (ink.filter(ImageFilter.GaussianBlur(2)) for ink in _same_size(reference, image))
    difference = ImageStat.Stat(ImageChops.difference(reference, image)).sum[0]
    return difference / ImageStat.Stat(ImageChops.lighter(reference, image)).sum[0]


def tiles_off(reference, image) -> list[tuple[float, tuple[int, int]]]:
    """(ink ratio, position) of every tile with ink in `reference` that `image` inks much less or much more."""
    reference, image = _same_size(reference, image)
    off = []
    for top in range(0, reference.height - TILE + 1, TILE):
        for left in range(0, reference.width - TILE + 1, TILE):
            box = (left, top, left + TILE, top + TILE)
            expected = ImageStat.Stat(reference.crop(box)).sum[0]
            if expected < 255 * TILE * TILE * 0.03:
                continue  # (nearly) blank here
            ratio = ImageStat.Stat(image.crop(box)).sum[0] / expected
            if not INK_RATIO[0] <= ratio <= INK_RATIO[1]:
                off.append((round(ratio, 2), (left, top)))
    return off


@pytest.mark.parametrize("viewer", ["mupdf", "ghostscript", "pdfium"])
def test_an_issued_certificate_looks_the_same_as_in_poppler(issued_pdf, viewer, tmp_path):
    reference = page_image(issued_pdf, "poppler", dpi=DPI)
    image = page_image(issued_pdf, viewer, dpi=DPI)
    reference.save(tmp_path / "poppler.png")
    image.save(tmp_path / f"{viewer}.png")
    assert abs(image.width - reference.width) <= 1 and abs(image.height - reference.height) <= 1

    disagreement = ink_disagreement(reference, image)
    assert disagreement < MAX_DISAGREEMENT, f"{viewer} draws another page ({disagreement:.2f}); see {tmp_path}"
    off = tiles_off(reference, image)
    assert off == [], f"{viewer} inks these {TILE}px tiles differently (ratio, position): {off}; see {tmp_path}"


def test_an_issued_certificates_fonts_hold_the_glyphs_its_text_draws(issued_pdf):
    assert glyph_mismatches(issued_pdf) == []
