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


def _der(tag: int, content: bytes) -> bytes:
    """One DER element: its tag, its definite length, its content."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


@dataclass(frozen=True)
class _SignatureTemplate:
    """The fixed parts of a PAdES B-B signature container by one signer with one digest algorithm.

    Without a time-stamp, PAdES signed attributes (content type, message digest, signing certificate) differ from
    one document to the next only in the document's digest: the container is the same bytes around the digest and
    the signature value. pyHanko builds them once; each signature then fills them in, instead of assembling the
    whole CMS structure again in asn1crypto (most of the signature's cost)."""

    attributes_head: bytes  # the signed attributes' SET up to the document digest
    attributes_tail: bytes  # and after it
    signer_info_head: bytes  # version, signer identifier, digest algorithm
    signature_algorithm: bytes
    signed_data_head: bytes  # version, digest algorithms, encapsulated content, certificates
    content_type: bytes

    def container(self, digest: bytes, signature: bytes) -> bytes:
        attributes = self.attributes(digest)
        signer_info = _der(
            0x30,
            self.signer_info_head
            + b"\xa0"  # [0] IMPLICIT: the same SET, tagged as SignerInfo.signedAttrs
            + attributes[1:]
            + self.signature_algorithm
            + _der(0x04, signature),
        )
        signed_data = _der(0x30, self.signed_data_head + _der(0x31, signer_info))
        return _der(0x30, self.content_type + _der(0xA0, signed_data))

    def attributes(self, digest: bytes) -> bytes:
        return self.attributes_head + digest + self.attributes_tail

    @classmethod
    def read(cls, container: bytes, *, digest: bytes) -> "_SignatureTemplate | None":
        """The template of pyHanko's own container for `digest`, or None where it is not of the expected shape."""
        from asn1crypto import cms

        content_info = cms.ContentInfo.load(container)
        signed_data = content_info["content"]
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) != 1:
            return None
        signer_info = signer_infos[0]
        if signer_info["unsigned_attrs"].dump() or signed_data["crls"].dump():
            return None
        attributes = signer_info["signed_attrs"].untag().dump()
        if attributes[:1] != b"\x31" or attributes.count(digest) != 1:
            return None
        at = attributes.index(digest)
        tagged = signer_info["signed_attrs"].dump()
        info = signer_info.contents
        head, found, rest = info.partition(tagged)
        if not found:
            return None
        signature_algorithm = signer_info["signature_algorithm"].dump()
        if rest != signature_algorithm + signer_info["signature"].dump():
            return None
        data = signed_data.contents
        infos = signer_infos.dump()
        if not data.endswith(infos):
            return None
        return cls(
            attributes_head=attributes[:at],
            attributes_tail=attributes[at + len(digest) :],
            signer_info_head=head,
            signature_algorithm=signature_algorithm,
            signed_data_head=data[: -len(infos)],
            content_type=content_info["content_type"].dump(),
        )


def _kept_key_signer_class():
    import copy
    import hashlib
    import logging

    from asn1crypto import cms
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from pyhanko.sign.general import get_pyca_cryptography_hash
    from pyhanko.sign.signers import SimpleSigner

    logger = logging.getLogger(__name__)

    class KeptKeySigner(SimpleSigner):
        """pyHanko's SimpleSigner, loading the private key once rather than at every signature (an RSA key's
        checks take tens of milliseconds), and filling in a template of the signature container where the
        signature is plain PAdES B-B (see _SignatureTemplate)."""

        @classmethod
        def keeping(cls, signer: SimpleSigner | None) -> "KeptKeySigner | None":
            """This signer in place of one that pyHanko loaded (its loaders make plain SimpleSigners)."""
            if signer is None:
                return None
            kept = cls.__new__(cls)
            kept.__dict__.update(signer.__dict__)
            return kept

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            placeholder = self.__dict__.get("_placeholder_signature")
            if placeholder is not None:
                return placeholder
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

        async def async_sign(
            self,
            data_digest: bytes,
            digest_algorithm: str,
            dry_run=False,
            use_pades=False,
            timestamper=None,
            signed_attr_settings=None,
            is_pdf_sig=True,
            encap_content_info=None,
        ):
            plain = (
                use_pades
                and not dry_run
                and timestamper is None
                and is_pdf_sig
                and encap_content_info is None
                and not self.attribute_certs
                and self.signed_attr_prov_spec is None
                and self.unsigned_attr_prov_spec is None
                and (
                    signed_attr_settings is None
                    or (
                        signed_attr_settings.cades_signed_attrs is None
                        and signed_attr_settings.adobe_revinfo_attr is None
                    )
                )
            )
            template = await self._template(digest_algorithm) if plain else None
            if template is None:
                return await super().async_sign(
                    data_digest,
                    digest_algorithm,
                    dry_run=dry_run,
                    use_pades=use_pades,
                    timestamper=timestamper,
                    signed_attr_settings=signed_attr_settings,
                    is_pdf_sig=is_pdf_sig,
                    encap_content_info=encap_content_info,
                )
            signature = self.sign_raw(template.attributes(data_digest), digest_algorithm)
            return cms.ContentInfo.load(template.container(data_digest, signature))

        async def _template(self, digest_algorithm: str):
            # Two threads may both build it once: the same template, no harm.
            templates = self.__dict__.setdefault("_templates", {})
            if digest_algorithm not in templates:
                templates[digest_algorithm] = await self._template_build(digest_algorithm)
            return templates[digest_algorithm]

        async def _template_build(self, digest_algorithm: str):
            """pyHanko's own container for a stand-in digest and signature, read as a template; kept only if
            filling the template in again gives back pyHanko's bytes exactly."""
            size = hashlib.new(digest_algorithm).digest_size
            digest = hashlib.sha512(b"carestar signature template").digest()[:size]
            placeholder = copy.copy(self)
            placeholder.__dict__.pop("_templates", None)
            placeholder.__dict__["_placeholder_signature"] = signature = bytes(range(64, 64 + 72))

            container = (await SimpleSigner.async_sign(placeholder, digest, digest_algorithm, use_pades=True)).dump()
            template = _SignatureTemplate.read(container, digest=digest)
            if template is None or template.container(digest, signature) != container:
                logger.warning("The signature container is not of the expected shape: signing the slow way.")
                return None
            return template

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
    kept = _kept_key_signer_class()
    signer = kept.keeping(
        kept.load(str(directory / "pdf-signing-key.pem"), str(directory / "pdf-signing.pem"), ca_chain_files=(ca_file,))
    )
    return SigningIdentity(signer=signer, trust_roots=(load_cert_from_pemder(ca_file),))


def _pkcs12_identity() -> SigningIdentity:
    password = settings.PDF_SIGNING_PKCS12_PASSWORD
    kept = _kept_key_signer_class()
    signer = kept.keeping(
        kept.load_pkcs12(settings.PDF_SIGNING_PKCS12_FILE, passphrase=password.encode() if password else None)
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
