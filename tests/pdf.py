import io
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ContentStream


def pdf_text(data: bytes) -> str:
    """The PDF's text without whitespace: letter-spaced headings come out with spaces between the characters."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return "".join(text.split())


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: scripts/system-deps.sh installs it (Debian package {package})")
    return path


def pdftotext(data: bytes) -> str:
    """The PDF's text as poppler's pdftotext extracts it, without whitespace."""
    result = subprocess.run(
        [_tool("pdftotext", "poppler-utils"), "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    )
    return "".join(result.stdout.decode().split())


VIEWERS = ("poppler", "mupdf", "ghostscript", "pdfium")


def page_image(data: bytes, viewer: str, *, dpi: int) -> Image.Image:
    """Page 1 in greyscale as `viewer` draws it: poppler (pdftoppm), MuPDF (mutool), Ghostscript (what CUPS prints
    with) or pdfium (Chrome's renderer). All anti-alias text and graphics."""
    if viewer == "pdfium":
        import pypdfium2

        document = pypdfium2.PdfDocument(data)
        try:
            return document[0].render(scale=dpi / 72).to_pil().convert("L")
        finally:
            document.close()
    with tempfile.TemporaryDirectory() as directory:
        source, output = Path(directory) / "document.pdf", Path(directory) / "page.png"
        source.write_bytes(data)
        if viewer == "poppler":
            command = [_tool("pdftoppm", "poppler-utils"), "-r", str(dpi), "-f", "1", "-l", "1", "-png", "-singlefile"]
            command += [str(source), str(output.with_suffix(""))]
        elif viewer == "mupdf":
            command = [_tool("mutool", "mupdf-tools"), "draw", "-q", "-r", str(dpi), "-o", str(output)]
            command += [str(source), "1"]
        elif viewer == "ghostscript":
            command = [_tool("gs", "ghostscript"), "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pnggray"]
            command += [f"-r{dpi}", "-dTextAlphaBits=4", "-dGraphicsAlphaBits=4", "-dFirstPage=1", "-dLastPage=1"]
            command += [f"-sOutputFile={output}", str(source)]
        else:
            raise ValueError(f"unknown viewer: {viewer}")
        result = subprocess.run(command, capture_output=True, check=False)
        assert result.returncode == 0 and output.exists(), f"{viewer} failed: {result.stderr.decode(errors='replace')}"
        with Image.open(output) as image:
            return image.convert("L")


def _to_unicode(font) -> dict[int, str]:
    """code -> text from the font's ToUnicode CMap (bfchar and bfrange entries)."""
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    mapping = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>", block):
            mapping[int(code, 16)] = bytes.fromhex(text).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for first, last, text in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            start = int(text, 16)
            for offset, code in enumerate(range(int(first, 16), int(last, 16) + 1)):
                mapping[code] = chr(start + offset)
    return mapping


def _codes_shown(content: ContentStream, resources, reader: PdfReader, fonts_used: dict) -> None:
    """Collect, per font object, the 2-byte codes that text operators show, descending into form XObjects."""
    font = None
    for operands, operator in content.operations:
        if operator == b"Tf":
            font = resources["/Font"][operands[0]].get_object()
        elif operator in (b"Tj", b"'", b'"', b"TJ"):
            strings = operands[0] if operator == b"TJ" else operands[-1:]
            for string in strings:
                if isinstance(string, (int, float)):
                    continue
                raw = string.original_bytes if hasattr(string, "original_bytes") else bytes(string)
                codes = fonts_used.setdefault(id(font), (font, set()))[1]
                codes.update(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))
        elif operator == b"Do":
            xobject = resources["/XObject"][operands[0]].get_object()
            if xobject.get("/Subtype") == "/Form":
                form_resources = xobject["/Resources"].get_object() if "/Resources" in xobject else resources
                _codes_shown(ContentStream(xobject, reader), form_resources, reader, fonts_used)


def glyph_mismatches(data: bytes) -> list[str]:
    """Each glyph the pages show whose font program has another glyph, or none, under the number the page uses.

    A code shown in an Identity-H font is its CID. ISO 32000-1 §9.7.4.2 maps a CID to a glyph through the CFF
    charset in a CIDFontType0 font whose CFF is CID-keyed, and through CIDToGIDMap in a CIDFontType2 font; the
    glyph found must be the one the font's own cmap gives for the character ToUnicode says the code is. A CID-keyed
    CFF must also number its glyphs as its CIDs (identity charset), so that readers that skip the charset agree.
    """
    reader = PdfReader(io.BytesIO(data))
    fonts_used: dict = {}
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        _codes_shown(ContentStream(page.get_contents(), reader), resources, reader, fonts_used)
    problems = []
    for font, codes in fonts_used.values():
        name = str(font["/BaseFont"])
        if font.get("/Subtype") != "/Type0" or font.get("/Encoding") != "/Identity-H":
            problems.append(f"{name}: not a Type0 font with Identity-H encoding")
            continue
        descendant = font["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        program_key = next((key for key in ("/FontFile2", "/FontFile3") if key in descriptor), None)
        if program_key is None:
            problems.append(f"{name}: no embedded font program")
            continue
        program = TTFont(io.BytesIO(descriptor[program_key].get_object().get_data()))
        glyph_order = program.getGlyphOrder()
        if descendant["/Subtype"] == "/CIDFontType0" and "CFF " in program:
            top = program["CFF "].cff.topDictIndex[0]
            if "ROS" not in top.rawDict:
                cid_to_glyph = {glyph: glyph for glyph in range(len(glyph_order))}  # not CID-keyed: CID = glyph
            else:
                cids = [0 if glyph == ".notdef" else int(glyph.removeprefix("cid")) for glyph in top.charset]
                cid_to_glyph = {cid: glyph for glyph, cid in enumerate(cids)}
                renumbered = [glyph for glyph, cid in enumerate(cids) if glyph != cid]
                if renumbered:
                    problems.append(f"{name}: CFF charset is not the identity ({len(renumbered)} glyphs renumbered)")
        elif descendant["/Subtype"] == "/CIDFontType2" and descendant.get("/CIDToGIDMap", "/Identity") == "/Identity":
            cid_to_glyph = {glyph: glyph for glyph in range(len(glyph_order))}
        else:
            problems.append(f"{name}: unexpected {descendant['/Subtype']} font with {program_key}")
            continue
        to_unicode, cmap = _to_unicode(font), program.getBestCmap() or {}
        for code in sorted(codes):
            text = to_unicode.get(code, "")
            expected = program.getGlyphID(cmap[ord(text)]) if len(text) == 1 and ord(text) in cmap else None
            if expected is None:
                problems.append(f"{name}: code {code} ({text!r}) has no glyph in the font's cmap")
            elif cid_to_glyph.get(code) != expected:
                problems.append(f"{name}: code {code} ({text}) draws glyph {cid_to_glyph.get(code)}, not {expected}")
    return problems
