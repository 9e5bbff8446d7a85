import io

from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    """The PDF's text without whitespace: letter-spaced headings come out with spaces between the characters."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return "".join(text.split())
