"""Pictures: a campaign's cover and the photos in its updates (charity.services.images).

An uploaded picture is never stored as uploaded: its pixels are re-encoded into a few
widths and two formats (WebP and JPEG), which drops every EXIF field (GPS included). Each
encoding is one :class:`ImageVariant`, stored in the content-addressed upload store and
served publicly at ``/img/<sha256>.<ext>`` only because a row here names it (the store
also holds private evidence files, which are never served by that route).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charity.extensions import db
from charity.models.base import TimestampMixin

IMAGE_KINDS = ("cover", "photo")
VARIANT_TYPES = ("image/webp", "image/jpeg")


class Image(TimestampMixin, db.Model):
    __tablename__ = "images"
    __table_args__ = (
        CheckConstraint(f"kind IN {IMAGE_KINDS!r}", name="kind"),
        CheckConstraint("width > 0 AND height > 0", name="dimensions_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: cover (cropped to 16:9) or photo (its own proportions).
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    #: The organization whose page shows it.
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    #: Width and height of the largest variant (the proportions every variant keeps).
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    variants: Mapped[list[ImageVariant]] = relationship(
        back_populates="image", order_by="ImageVariant.width", lazy="selectin"
    )

    def __repr__(self) -> str:
        return f"<Image {self.id} {self.kind} {self.width}x{self.height}>"


class ImageVariant(db.Model):
    __tablename__ = "image_variants"
    __table_args__ = (
        CheckConstraint(f"content_type IN {VARIANT_TYPES!r}", name="content_type"),
        Index("ix_image_variants_image_id", "image_id"),
    )

    #: SHA-256 of the encoded file: its name in the upload store and in its URL.
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id"), nullable=False)
    content_type: Mapped[str] = mapped_column(String(16), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)

    image: Mapped[Image] = relationship(back_populates="variants")

    @property
    def extension(self) -> str:
        return "webp" if self.content_type == "image/webp" else "jpg"

    def __repr__(self) -> str:
        return f"<ImageVariant {self.sha256[:12]} {self.width}w {self.content_type}>"
