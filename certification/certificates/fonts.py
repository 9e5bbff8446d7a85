"""Fonts for certificates.

A CJK font holds some 65,000 glyphs. WeasyPrint subsets it while keeping glyph ids, which for Chinese text means
carrying tens of thousands of empty glyphs through every render (slow, and a large PDF). Instead each certificate
gets tiny fonts made for its own text with HarfBuzz (a millisecond or two), and rare characters the main family
lacks come from the fallback families. A character no installed font can draw is refused before anything is issued.
"""

import functools
import subprocess
import unicodedata
from dataclasses import dataclass

import uharfbuzz as hb
from django.conf import settings
from django.utils.translation import gettext as _


class MissingGlyphsError(ValueError):
    def __init__(self, characters: str):
        self.characters = characters
        super().__init__(_("No installed font can print these characters: %(chars)s") % {"chars": " ".join(characters)})


_DROPPED_TABLES = [int.from_bytes(tag.encode(), "big") for tag in ("vhea", "vmtx", "VORG", "BASE")]


@dataclass(frozen=True)
class FontSubset:
    css_family: str
    weight: int
    data: bytes


@dataclass(frozen=True)
class _Face:
    css_family: str
    weight: int
    face: hb.Face
    codepoints: frozenset[int]


@functools.cache
def font_file(family: str, style: str = "Regular") -> tuple[str, int] | None:
    """(path, face index) of an installed family, or None when fontconfig would substitute another."""
    result = subprocess.run(
        ["fc-match", "--format=%{family}\n%{style}\n%{file}\n%{index}", f"{family}:style={style}"],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = result.stdout.split("\n")
    if result.returncode != 0 or len(lines) < 4:
        return None
    families = {name.strip().casefold() for name in lines[0].split(",")}
    if family.casefold() not in families:
        return None
    return lines[2], int(lines[3])


@functools.cache
def _load_face(path: str, index: int) -> tuple[hb.Face, frozenset[int]]:
    face = hb.Face(hb.Blob.from_file_path(path), index)
    return face, frozenset(face.unicodes)


@functools.cache
def _faces() -> tuple[_Face, ...]:
    faces = []
    primary = settings.CERTIFICATE_FONT_FAMILY
    for weight, style in ((400, "Regular"), (700, "Bold")):
        location = font_file(primary, style) or (font_file(primary) if weight == 700 else None)
        if location:
            faces.append(_Face("CertificateText", weight, *_load_face(*location)))
    for number, family in enumerate(settings.CERTIFICATE_FALLBACK_FONT_FAMILIES):
        location = font_file(family)
        if location:
            faces.append(_Face(f"CertificateFallback{number}", 400, *_load_face(*location)))
    return tuple(faces)


def font_stack() -> str:
    """The CSS font-family value that lists the subsets in order."""
    families = dict.fromkeys(face.css_family for face in _faces())
    return ", ".join(f'"{family}"' for family in families)


def _needs_glyph(character: str) -> bool:
    return not (character.isspace() or unicodedata.category(character) in {"Cc", "Cf", "Zl", "Zp"})


def font_subsets(text: str) -> list[FontSubset]:
    """Subsets of the installed fonts that together draw every character of `text`."""
    needed = {ord(character) for character in set(text) if _needs_glyph(character)}
    missing = set(needed)
    subsets = []
    for face in _faces():
        # The primary family draws everything it can, in both weights; fallbacks only what is still missing.
        # (Membership tests on the few needed characters: set algebra against 45,000-entry cmaps costs more.)
        candidates = needed if face.css_family == "CertificateText" else missing
        wanted = {codepoint for codepoint in candidates if codepoint in face.codepoints}
        missing = {codepoint for codepoint in missing if codepoint not in face.codepoints}
        if not wanted:
            continue
        subset_input = hb.SubsetInput()
        for codepoint in wanted | {0x20}:
            subset_input.unicode_set.add(codepoint)
        # Horizontal text only: no layout closure (halves the time on a CJK font), no hinting, no vertical metrics.
        # The subset numbers its glyphs afresh, and PDF draws with those numbers; a CID-keyed CFF font (Noto Sans
        # CJK) would still name each glyph by its CID in the full font, and viewers that follow the standard look
        # glyphs up by that CID (ISO 32000-1 §9.7.4.2): MuPDF and Ghostscript then draw nothing or boxes. An identity
        # charset makes every glyph's CID its new number. (TrueType fallbacks have no CIDs: nothing to do there.)
        subset_input.flags = (
            hb.SubsetFlags.NO_LAYOUT_CLOSURE | hb.SubsetFlags.NO_HINTING | hb.SubsetFlags.CFF_IDENTITY_CHARSET
        )
        for tag in _DROPPED_TABLES:
            subset_input.drop_table_tag_set.add(tag)
        subsets.append(FontSubset(face.css_family, face.weight, hb.subset(face.face, subset_input).blob.data))
    if missing:
        raise MissingGlyphsError("".join(sorted(chr(codepoint) for codepoint in missing)))
    return subsets
