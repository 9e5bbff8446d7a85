"""Holders' photos: checked and normalised on upload, as certificates print them (3:4, JPEG, no metadata)."""

import io
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # more than any camera; fewer than a decompression bomb
# A 2-inch ID photo's proportions (35 × 49 mm is 5:7; 3:4 is what Chinese certificates print).
SIZE = (390, 520)


def photo_normalize(upload) -> ContentFile:
    """A JPEG of SIZE, cropped to 3:4 around the centre, turned upright, without EXIF (no place, no device).

    Raises ValidationError, in words, for anything that is not a photo."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(_("The photo is larger than 5 MB."), code="too_large")
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in {"JPEG", "PNG", "WEBP"}:
                raise ValidationError(_("The photo must be a JPEG, PNG or WebP image."), code="format")
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationError(_("The photo has too many pixels."), code="too_large")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            if min(image.size) < 150:
                raise ValidationError(_("The photo is too small: at least 150 pixels on each side."), code="small")
            fitted = ImageOps.fit(image, SIZE, method=Image.Resampling.LANCZOS)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_("The file is not a readable image."), code="unreadable") from None
    output = io.BytesIO()
    fitted.save(output, format="JPEG", quality=85, optimize=True)
    return ContentFile(output.getvalue(), name=f"{uuid.uuid4().hex}.jpg")
