"""Is this PDF one of ours, unchanged, and still in force? One verdict for the public file check."""

import hashlib
import io
import logging
import warnings
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


def _embedded_files(data: bytes) -> dict[str, bytes]:
    """The files a PDF carries (its /EmbeddedFiles name tree), by name."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    files = {}
    try:
        names = PdfFileReader(io.BytesIO(data), strict=False).root["/Names"]["/EmbeddedFiles"]
        nodes = [names]
        while nodes:
            node = nodes.pop()
            entries = node.get("/Names", [])
            for position in range(0, len(entries) - 1, 2):
                files[str(entries[position])] = entries[position + 1]["/EF"]["/F"].data
            nodes.extend(kid for kid in node.get("/Kids", []))
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError) as error:
        logger.info("embedded files not readable: %r", error)
    return files


def _signature_by_platform_key(data: bytes) -> bool:
    """The file's signature is the platform's current signing key's, and the bytes are as it signed them."""
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    ours = signing_certificate()
    signatures = _signatures(data)
    if len(signatures) != 1 or signatures[0].signer_cert is None or signatures[0].signer_cert.sha256 != ours.sha256:
        return False
    try:
        context = ValidationContext(trust_roots=list(signing_identity().trust_roots) or [ours])
        status = validate_pdf_signature(signatures[0], context)
    except Exception as error:  # a damaged signature container
        logger.info("stored file's signature cannot be validated: %r", error)
        return False
    return bool(status.intact and status.valid)


def _credential_verifies(data: bytes, certificate: Certificate) -> bool:
    """The Open Badges credential inside the PDF verifies with the published key and says what the register says."""
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import OKPKey

    from . import openbadges
    from .rendering import CREDENTIAL_FILENAME

    token = _embedded_files(data).get(CREDENTIAL_FILENAME)
    if token is None:
        return False
    published = OKPKey.import_key(openbadges.public_jwk())
    with warnings.catch_warnings():
        # RFC 9864 prefers "Ed25519" as the name; the credentials say "EdDSA", as verifiers in the field expect.
        warnings.simplefilter("ignore")
        try:
            claims = jwt.decode(token, published, algorithms=[openbadges.ALGORITHM]).claims
        except (JoseError, ValueError) as error:
            logger.info("embedded credential does not verify: %r", error)
            return False
        expected = jwt.decode(openbadges.credential_jwt(certificate), published, algorithms=[openbadges.ALGORITHM])
    return claims == expected.claims


def certificate_check(*, certificate: Certificate) -> dict:
    """What verifying an issued certificate shows, as plain data: its public record (the verification page and its
    JSON), the file check's verdict on its stored PDF, whether that PDF's signature is the platform's signing key's
    and intact, and whether the Open Badges credential inside verifies with the published key.

    The same result for every certificate before a backup and after its restore shows the restore whole: database,
    files and keys (docs/backup.md, `manage.py certificates_verify`).
    """
    from .selectors import certificate_public_record

    result = {
        "serial_number": certificate.serial_number,
        "verification_code": certificate.verification_code,
        "record": certificate_public_record(certificate=certificate),
    }
    try:
        with certificate.pdf.open("rb") as handle:
            data = handle.read()
    except (OSError, ValueError):
        return {**result, "file": {"verdict": "missing"}, "signed_by_platform_key": False, "credential_verifies": False}
    check = pdf_file_check(data)
    return {
        **result,
        "file": {
            "verdict": check.verdict,
            "sha256": check.sha256,
            "certificate": check.certificate.serial_number if check.certificate else None,
            "signer": check.signer,
        },
        "signed_by_platform_key": _signature_by_platform_key(data),
        "credential_verifies": _credential_verifies(data, certificate),
    }
