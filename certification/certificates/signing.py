"""PAdES signatures on certificate PDFs, by the issuer's signing certificate (pyHanko).

Where the key lives, first match wins:
- a PKCS#11 token (PDF_SIGNING_PKCS11_MODULE, with its token label, key label and PIN): an HSM or a UKey;
- a PKCS#12 file (PDF_SIGNING_PKCS12_FILE and PDF_SIGNING_PKCS12_PASSWORD), as a CA delivers a signing certificate;
- where PDF_SIGNING_CREATE is on (development, tests): a local issuing CA and a signing certificate it issued,
  created once under PDF_SIGNING_DIR ($VAR_DIR/keys/). Production never creates one: start-up fails without a key.

With PDF_SIGNING_TSA_URL the signature is PAdES B-T (an RFC 3161 time-stamp from that authority) and the
certificates and revocation data needed to validate it later are embedded (long-term validation); without it, B-B.
The signature field lies over the seal that the template draws, so a click on the seal shows the signature.
"""

import datetime
import functools
import io
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

FIELD_NAME = "IssuerSeal"
# Room for the signature container without a time-stamp (the signature and a chain of a few certificates);
# a fixed size spares pyHanko a trial signature to measure it.
SIGNATURE_BYTES_RESERVED = 8192


def _kept_key_signer_class():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from pyhanko.sign.general import get_pyca_cryptography_hash
    from pyhanko.sign.signers import SimpleSigner

    class KeptKeySigner(SimpleSigner):
        """pyHanko's SimpleSigner, loading the private key once rather than at every signature (an RSA key's
        checks take tens of milliseconds)."""

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            if mechanism not in ("rsassa_pkcs1v15", "ecdsa"):
                return super().sign_raw(data, digest_algorithm)
            key = self.__dict__.get("_loaded_key")
            if key is None:
                key = self.__dict__["_loaded_key"] = serialization.load_der_private_key(
                    self.signing_key.dump(), password=None
                )
            hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "ecdsa":
                return key.sign(data, ec.ECDSA(hash_algorithm))
            return key.sign(data, padding.PKCS1v15(), hash_algorithm)

    return KeptKeySigner


@dataclass(frozen=True)
class SigningIdentity:
    signer: object  # pyhanko.sign.signers.Signer
    trust_roots: tuple  # asn1crypto certificates a validator should trust for the local CA (empty otherwise)


# --- The local issuing CA (development and tests) ------------------------------------------------------------


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def local_ca_create(directory: Path, *, issuer: str) -> None:
    """A root CA and a signing certificate it issues to `issuer`, as PEM files in `directory`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)

    def name(common_name: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, issuer),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )

    # ECDSA P-256: what current CAs issue, checked by every PDF reader, and cheap to sign with.
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name(f"{issuer} 证书签发测试 CA")
    ca_certificate = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365 * 20))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name(f"{issuer} 电子印章"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365 * 10))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    unencrypted = serialization.NoEncryption()
    (directory / "pdf-signing-ca.pem").write_bytes(ca_certificate.public_bytes(pem))
    (directory / "pdf-signing.pem").write_bytes(certificate.public_bytes(pem))
    # The key last: its presence says the set is complete.
    _write_private(
        directory / "pdf-signing-key.pem",
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, unencrypted),
    )


def _local_identity() -> SigningIdentity:
    import fcntl

    from pyhanko.keys import load_cert_from_pemder

    directory = Path(settings.PDF_SIGNING_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    # The web server and the worker may start together: one creates the set, the other waits and reads it.
    with open(directory / ".pdf-signing.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (directory / "pdf-signing-key.pem").exists():
            local_ca_create(directory, issuer=settings.CERTIFICATE_ISSUER)
    ca_file = str(directory / "pdf-signing-ca.pem")
    signer = _kept_key_signer_class().load(
        str(directory / "pdf-signing-key.pem"), str(directory / "pdf-signing.pem"), ca_chain_files=(ca_file,)
    )
    return SigningIdentity(signer=signer, trust_roots=(load_cert_from_pemder(ca_file),))


def _pkcs12_identity() -> SigningIdentity:
    password = settings.PDF_SIGNING_PKCS12_PASSWORD
    signer = _kept_key_signer_class().load_pkcs12(
        settings.PDF_SIGNING_PKCS12_FILE, passphrase=password.encode() if password else None
    )
    if signer is None:
        raise ImproperlyConfigured(
            f"The PKCS#12 file {settings.PDF_SIGNING_PKCS12_FILE} could not be read (wrong password, or not PKCS#12)."
        )
    return SigningIdentity(signer=signer, trust_roots=_roots_of(signer))


def _roots_of(signer) -> tuple:
    """The self-signed certificates of the chain the key came with: what long-term validation data builds on."""
    return tuple(certificate for certificate in signer.cert_registry if certificate.self_signed != "no")


def _pkcs11_identity() -> SigningIdentity:
    from pyhanko.sign import pkcs11

    session = pkcs11.open_pkcs11_session(
        settings.PDF_SIGNING_PKCS11_MODULE,
        token_criteria=pkcs11.TokenCriteria(label=settings.PDF_SIGNING_PKCS11_TOKEN),
        user_pin=settings.PDF_SIGNING_PKCS11_PIN,
    )
    signer = pkcs11.PKCS11Signer(
        session,
        key_label=settings.PDF_SIGNING_PKCS11_KEY_LABEL,
        cert_label=settings.PDF_SIGNING_PKCS11_CERT_LABEL or settings.PDF_SIGNING_PKCS11_KEY_LABEL,
        # The digest is computed here and the token signs it: every token offers the raw mechanisms (CKM_ECDSA,
        # CKM_RSA_PKCS), not all of them the combined ones (SoftHSM has no CKM_ECDSA_SHA256).
        use_raw_mechanism=True,
    )
    return SigningIdentity(signer=signer, trust_roots=_roots_of(signer))


@functools.cache
def signing_identity() -> SigningIdentity:
    if settings.PDF_SIGNING_PKCS11_MODULE:
        return _pkcs11_identity()
    if settings.PDF_SIGNING_PKCS12_FILE:
        return _pkcs12_identity()
    if settings.PDF_SIGNING_CREATE:
        return _local_identity()
    raise ImproperlyConfigured(
        "No key to sign certificates with: set PDF_SIGNING_PKCS12_FILE (and PDF_SIGNING_PKCS12_PASSWORD) or "
        "PDF_SIGNING_PKCS11_MODULE (with PDF_SIGNING_PKCS11_TOKEN, PDF_SIGNING_PKCS11_KEY_LABEL and "
        "PDF_SIGNING_PKCS11_PIN)."
    )


# A PKCS#11 session does not survive fork() (Celery's prefork pool, gunicorn's workers): each child opens its own.
os.register_at_fork(after_in_child=signing_identity.cache_clear)


def signing_certificate():
    """The signer's certificate (asn1crypto)."""
    return signing_identity().signer.signing_cert


def signer_name() -> str:
    return signing_certificate().subject.native.get("common_name", "")


def _extra_trust_roots() -> list:
    """Roots the validation data builds on beyond the signer's own chain, such as the time-stamp authority's
    (PDF_SIGNING_TRUST_ROOTS_FILE, PEM, any number of certificates)."""
    from pyhanko.keys import load_certs_from_pemder

    path = settings.PDF_SIGNING_TRUST_ROOTS_FILE
    return list(load_certs_from_pemder([path])) if path else []


def _blank_stamp_style():
    """A signature appearance that draws nothing: the seal the template drew shows through. PDF/A wants every
    visible widget to have an appearance stream, so it gets an empty one rather than none."""
    from dataclasses import dataclass as frozen_dataclass

    from pyhanko.stamp.base import BaseStamp, BaseStampStyle

    class BlankStamp(BaseStamp):
        def _render_inner_content(self):
            return []

    @frozen_dataclass(frozen=True)
    class BlankStampStyle(BaseStampStyle):
        border_width: int = 0

        def create_stamp(self, writer, box, text_params):
            return BlankStamp(writer=writer, style=self, box=box)

    return BlankStampStyle()


# --- Signing -----------------------------------------------------------------------------------------------


def pdf_sign(pdf: bytes, *, seal_box: tuple[float, float, float, float] | None) -> bytes:
    """The PDF with the issuer's PAdES signature appended as an incremental update (the rendered bytes are kept).

    `seal_box` is the seal's rectangle on the first page (PDF points, x1 y1 x2 y2): the signature's widget lies
    over it, with an empty appearance of its own, so the seal the template drew is what every viewer shows.
    """
    import asyncio
    import concurrent.futures

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _sign(pdf, seal_box=seal_box)
    # pyHanko runs its own event loop, which cannot start inside a running one (an async caller): a thread can.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_sign, pdf, seal_box=seal_box).result()


def _sign(pdf: bytes, *, seal_box: tuple[float, float, float, float] | None) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko_certvalidator import ValidationContext

    identity = signing_identity()
    tsa_url = settings.PDF_SIGNING_TSA_URL
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason="护理员星级证书签发",
        location=settings.CERTIFICATE_ISSUER,
        embed_validation_info=bool(tsa_url),
        validation_context=ValidationContext(
            trust_roots=[*identity.trust_roots, *_extra_trust_roots()] or None,
            allow_fetching=True,
            revocation_mode="soft-fail",
        )
        if tsa_url
        else None,
    )
    field = fields.SigFieldSpec(
        FIELD_NAME,
        on_page=0,
        box=tuple(round(value) for value in seal_box) if seal_box else None,
        readable_field_name="发证机关电子签章",
    )
    signer = signers.PdfSigner(
        metadata,
        identity.signer,
        timestamper=timestamps.HTTPTimeStamper(tsa_url, timeout=10) if tsa_url else None,
        stamp_style=_blank_stamp_style(),
        new_field_spec=field,
    )
    output = io.BytesIO()
    signer.sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False),
        output=output,
        bytes_reserved=None if tsa_url else SIGNATURE_BYTES_RESERVED,
    )
    return output.getvalue()
