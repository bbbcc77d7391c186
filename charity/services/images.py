"""Pictures for campaigns: checked, cleaned, resized, stored (issue 17 point 9).

An upload is accepted by what it is: the upload store's signature check first (JPEG, PNG
or WebP only, never a PDF here), then Pillow must open and verify it, and its pixel count
must fit before any pixel is decoded (a small file can claim 50,000 x 50,000 pixels).
The picture is turned upright by its EXIF orientation, then only its pixels are kept:
each variant is a new encoding (480 and 960 pixels wide, WebP and JPEG) that carries no
EXIF, no GPS position, no comment, no colour profile. Covers are cropped to 16:9 so the
campaign page reserves their space before they load.

The variants go into the content-addressed upload store; their rows
(:class:`~charity.models.ImageVariant`) are what lets ``/img/<sha256>.<ext>`` serve them.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass

from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from charity.core.errors import DomainError
from charity.core.permissions import ensure_org_role
from charity.models import Campaign, CampaignUpdate, Image, ImageVariant, User
from charity.services import uploads
from charity.web.i18n import N_

PICTURE_TYPES = ("image/jpeg", "image/png", "image/webp")
MAX_BYTES = 8 * 1024 * 1024
#: 40 megapixels: any phone photo fits; a decompression bomb does not.
MAX_PIXELS = 40_000_000
MIN_SIDE = 200
WIDTHS = (480, 960)
COVER_RATIO = (16, 9)
MAX_ALT = 200
#: Quality chosen so that a 960-pixel cover stays near 60 KB (the page's 150 KB budget).
WEBP_QUALITY = 72
JPEG_QUALITY = 78
#: Byte budget per variant width: a busy photo (leaves, a crowd, sensor noise) encodes to
#: twice the usual size at the qualities above, so it is encoded again at lower qualities
#: until it fits (a phone at 3x pixel density loads the 960 variant; the campaign page
#: must stay under 150 KB with it, tests/browser/test_lightness.py).
VARIANT_BUDGET = {480: 36 * 1024, 960: 80 * 1024}
FALLBACK_QUALITIES = (60, 48, 36, 26)
IMAGE_ROLES = ("owner", "editor")


class PictureError(DomainError, ValueError):
    """A picture we refuse; the message (an N_ msgid, translated by the view) is for people."""


@dataclass(frozen=True)
class Encoded:
    data: bytes
    content_type: str
    width: int
    height: int


def _open_checked(data: bytes) -> PILImage.Image:
    if not data:
        raise PictureError(N_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise PictureError(N_("The picture is larger than 8 MB."))
    if uploads.sniff(data) not in PICTURE_TYPES:
        raise PictureError(N_("Upload a JPEG, PNG or WebP picture."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            probe = PILImage.open(io.BytesIO(data))
            if probe.width * probe.height > MAX_PIXELS:
                raise PictureError(N_("The picture has too many pixels (at most 40 million)."))
            probe.verify()
            picture = PILImage.open(io.BytesIO(data))
            picture.load()
    except PictureError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Warning) as error:
        raise PictureError(N_("This picture cannot be read.")) from error
    except PILImage.DecompressionBombError as error:
        raise PictureError(N_("The picture has too many pixels (at most 40 million).")) from error
    if picture.format not in ("JPEG", "PNG", "WEBP"):
        raise PictureError(N_("Upload a JPEG, PNG or WebP picture."))
    if min(picture.size) < MIN_SIDE:
        raise PictureError(N_("The picture is too small (at least 200 pixels on each side)."))
    return picture


def _pixels_only(picture: PILImage.Image) -> PILImage.Image:
    """Upright RGB pixels on white, with none of the file's metadata."""
    upright = ImageOps.exif_transpose(picture)
    if upright.mode in ("RGBA", "LA", "P"):
        upright = upright.convert("RGBA")
        background = PILImage.new("RGBA", upright.size, (255, 255, 255, 255))
        upright = PILImage.alpha_composite(background, upright)
    clean = PILImage.new("RGB", upright.size)
    clean.paste(upright.convert("RGB"))
    return clean


def _crop_cover(picture: PILImage.Image) -> PILImage.Image:
    wide, high = COVER_RATIO
    return ImageOps.fit(picture, (picture.width, picture.width * high // wide))


def _encode(picture: PILImage.Image, width: int) -> list[Encoded]:
    height = max(1, round(picture.height * width / picture.width))
    resized = picture.resize((width, height), PILImage.Resampling.LANCZOS)
    budget = VARIANT_BUDGET.get(width, max(VARIANT_BUDGET.values()))
    webp = _within_budget(resized, "WEBP", WEBP_QUALITY, budget)
    jpeg = _within_budget(resized, "JPEG", JPEG_QUALITY, budget)
    return [
        Encoded(webp, "image/webp", width, height),
        Encoded(jpeg, "image/jpeg", width, height),
    ]


def _within_budget(picture: PILImage.Image, fmt: str, quality: int, budget: int) -> bytes:
    """The picture at ``quality``, or at the first lower quality that fits ``budget`` (the
    lowest tried when none does)."""
    data = b""
    for q in (quality, *(q for q in FALLBACK_QUALITIES if q < quality)):
        buffer = io.BytesIO()
        if fmt == "WEBP":
            picture.save(buffer, "WEBP", quality=q, method=4)
        else:
            picture.save(buffer, "JPEG", quality=q, optimize=True, progressive=True)
        data = buffer.getvalue()
        if len(data) <= budget:
            break
    return data


def encode_picture(data: bytes, kind: str) -> list[Encoded]:
    """The variants of an uploaded picture (raises PictureError with the reason)."""
    picture = _pixels_only(_open_checked(data))
    return encode_pixels(picture, kind)


def encode_pixels(picture: PILImage.Image, kind: str) -> list[Encoded]:
    """Variants of pixels we drew ourselves (the demo's covers) or cleaned above."""
    if kind == "cover":
        picture = _crop_cover(picture)
    widths = [width for width in WIDTHS if width <= picture.width] or [picture.width]
    return [encoded for width in widths for encoded in _encode(picture, width)]


def clean_alt(text: str | None) -> str:
    alt = " ".join((text or "").split())
    if not alt:
        raise PictureError(N_("Describe the picture for people who cannot see it."))
    if len(alt) > MAX_ALT:
        raise PictureError(N_("Keep the description under 200 characters."))
    return alt


def store_variants(
    session: Session,
    upload_dir: str | os.PathLike[str],
    variants: list[Encoded],
    *,
    kind: str,
    organization_id: int | None,
    actor: User | None,
) -> Image:
    """The Image for these variants; the same pixels stored before give the same Image
    (the store is content-addressed: one file, one row)."""
    stored = [uploads.store_file(upload_dir, v.data, max_bytes=MAX_BYTES) for v in variants]
    existing = session.get(ImageVariant, stored[0].sha256)
    if existing is not None:
        return existing.image
    largest = variants[-1]
    image = Image(
        kind=kind,
        organization_id=organization_id,
        width=largest.width,
        height=largest.height,
        uploaded_by_id=actor.id if actor else None,
    )
    session.add(image)
    image.variants = [
        ImageVariant(
            sha256=file.sha256,
            content_type=variant.content_type,
            width=variant.width,
            height=variant.height,
            size=file.size,
        )
        for file, variant in zip(stored, variants, strict=True)
    ]
    return image


def set_campaign_cover(
    session: Session,
    actor: User,
    campaign: Campaign,
    upload_dir: str | os.PathLike[str],
    data: bytes,
    alt: str,
) -> Image:
    """Give the campaign a new cover (its owner or editor; drafts and published alike:
    the cover is not part of the filed plan)."""
    ensure_org_role(actor, campaign.organization_id, IMAGE_ROLES)
    description = clean_alt(alt)
    variants = encode_picture(data, "cover")
    image = store_variants(
        session,
        upload_dir,
        variants,
        kind="cover",
        organization_id=campaign.organization_id,
        actor=actor,
    )
    campaign.cover_image = image
    campaign.cover_alt = description
    return image


def attach_update_photo(
    session: Session,
    actor: User,
    update: CampaignUpdate,
    upload_dir: str | os.PathLike[str],
    data: bytes,
    alt: str,
) -> Image:
    ensure_org_role(actor, update.campaign.organization_id, IMAGE_ROLES)
    description = clean_alt(alt)
    variants = encode_picture(data, "photo")
    image = store_variants(
        session,
        upload_dir,
        variants,
        kind="photo",
        organization_id=update.campaign.organization_id,
        actor=actor,
    )
    update.photo_image = image
    update.photo_alt = description
    return image


def public_variant(session: Session, sha256: str, extension: str) -> ImageVariant | None:
    """The variant ``/img/<sha256>.<extension>`` names, or None (never another stored file)."""
    variant = session.scalar(select(ImageVariant).where(ImageVariant.sha256 == sha256))
    if variant is None or variant.extension != extension:
        return None
    return variant
