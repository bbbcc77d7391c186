"""Demo cover pictures, drawn with Pillow when the demo loads (issue 17 point 9): abstract
shapes in each cause's colours (charity.services.artwork), never a photograph of anyone."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from charity.extensions import db
from charity.models import Campaign
from charity.services import images
from charity.services.artwork import draw_cover

DEMO_ALT = "示意插图：山丘与太阳的抽象图案"


def load_covers() -> list[str]:
    """A drawn cover for every demo campaign that has none (idempotent)."""
    upload_dir = current_app.config["UPLOAD_DIR"]
    for campaign in db.session.scalars(select(Campaign).where(Campaign.cover_image_id.is_(None))):
        picture = draw_cover(campaign.filing_number, campaign.cause)
        variants = images.encode_pixels(picture, "cover")
        campaign.cover_image = images.store_variants(
            db.session,
            upload_dir,
            variants,
            kind="cover",
            organization_id=campaign.organization_id,
            actor=None,
        )
        campaign.cover_alt = DEMO_ALT
    return []
