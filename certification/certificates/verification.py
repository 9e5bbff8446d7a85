"""Is this PDF one of ours, unchanged, and still in force? One verdict for the public file check."""

import hashlib
import io
import logging
from dataclasses import dataclass

from .models import Certificate
from .signing import signing_certificate, signing_identity

logger = logging.getLogger(__name__)


class Verdict:
    GENUINE = "genuine"  # signed by the platform, unchanged, in force
    GENUINE_NOT_IN_FORCE = "genuine_not_in_force"  # signed and unchanged, but revoked, superseded or expired
    MODIFIED = "modified"  # signed by the platform, changed since
    NOT_OURS = "not_ours"  # signed by someone else, or not signed, or not a PDF


@dataclass(frozen=True)
class FileCheck:
    verdict: str
    sha256: str
    certificate: Certificate | None = None  # the register's entry, when the file (or its signed part) is one
    signer: str = ""  # who signed, as the signature names them

    @property
    def in_force(self) -> bool:
        return self.verdict == Verdict.GENUINE


def _signatures(data: bytes) -> list:
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        return list(PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError) as error:
        logger.info("checked file is no readable PDF: %r", error)
        return []


def _signed_revision(data: bytes, signature) -> bytes:
    """The file as it was signed: everything up to the end of the signature's byte range."""
    byte_range = signature.sig_object["/ByteRange"]
    return data[: int(byte_range[2]) + int(byte_range[3])]


def pdf_file_check(data: bytes) -> FileCheck:
    """Compare the file with the register, and its signature with the platform's key.

    The stored file is the signed file, so a file whose SHA-256 is a certificate's is that certificate unchanged.
    Otherwise a signature by the platform tells what it signed: if the signed revision is a stored certificate,
    the file is that certificate with changes added afterwards; a signature that no longer matches its bytes,
    or one by another key, or none at all, is not ours.
    """
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    digest = hashlib.sha256(data).hexdigest()
    issued = Certificate.objects.issued().select_related("successor")
    certificate = issued.filter(pdf_sha256=digest).first()
    ours = signing_certificate()
    if certificate is not None:
        verdict = Verdict.GENUINE if certificate.is_valid else Verdict.GENUINE_NOT_IN_FORCE
        return FileCheck(verdict, digest, certificate, signer=ours.subject.native.get("common_name", ""))

    for signature in _signatures(data):
        signer = signature.signer_cert
        name = signer.subject.native.get("common_name", "") if signer else ""
        if signer is None or signer.sha256 != ours.sha256:
            return FileCheck(Verdict.NOT_OURS, digest, signer=name)
        try:
            # Only whether the bytes are as signed matters here; the key is ours, so trust is settled.
            context = ValidationContext(trust_roots=list(signing_identity().trust_roots) or [ours])
            intact = validate_pdf_signature(signature, context).intact
        except Exception as error:  # a damaged signature container: not something we vouch for
            logger.info("checked file's signature cannot be validated: %r", error)
            intact = False
        original = issued.filter(pdf_sha256=hashlib.sha256(_signed_revision(data, signature)).hexdigest()).first()
        return FileCheck(Verdict.MODIFIED, digest, original if intact else None, signer=name)
    return FileCheck(Verdict.NOT_OURS, digest)
