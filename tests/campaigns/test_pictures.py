"""Cover pictures and update photos (issue 17 point 9): checked, cleaned, resized, served."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from PIL import Image as PILImage
from sqlalchemy import select

from charity.models import CampaignUpdate, ImageVariant
from charity.services import images, uploads
from charity.services.artwork import draw_cover
from tests.support.campaigns import photo_bytes
from tests.support.factories import CampaignFactory, UserFactory


def png_claiming(width: int, height: int) -> bytes:
    """A PNG header that claims huge dimensions (a decompression bomb's first bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)


def test_variants_keep_no_exif_and_turn_the_photo_upright() -> None:
    variants = images.encode_picture(photo_bytes(), "photo")
    assert [(v.content_type, v.width) for v in variants] == [
        ("image/webp", 480),
        ("image/jpeg", 480),
        ("image/webp", 960),
        ("image/jpeg", 960),
    ]
    for variant in variants:
        assert b"CameraMaker" not in variant.data
        opened = PILImage.open(io.BytesIO(variant.data))
        assert dict(opened.getexif()) == {}
        assert "exif" not in opened.info
        # 1600x1200 with orientation 6 is a portrait photo: 960 wide is 1280 high.
        assert opened.height > opened.width
        assert (opened.width, opened.height) == (variant.width, variant.height)


def test_covers_are_cropped_to_16_by_9_and_png_alpha_is_flattened() -> None:
    variants = images.encode_picture(
        photo_bytes((1000, 1000), "PNG", "RGBA", with_gps=False), "cover"
    )
    assert {(v.width, v.height) for v in variants} == {(480, 270), (960, 540)}
    assert all(PILImage.open(io.BytesIO(v.data)).mode == "RGB" for v in variants)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"%PDF-1.4\n%%EOF", "JPEG, PNG or WebP"),
        (b"GIF89a" + b"\x00" * 40, "JPEG, PNG or WebP"),
        (photo_bytes()[:600], "cannot be read"),
        (png_claiming(50_000, 50_000), "too many pixels"),
        (png_claiming(8_000, 8_000), "too many pixels"),
        (photo_bytes((150, 150), with_gps=False), "too small"),
        (b"\xff\xd8\xff" + b"\x00" * (images.MAX_BYTES + 1), "larger than 8 MB"),
    ],
)
def test_refused_uploads_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(images.PictureError, match=reason):
        images.encode_picture(data, "cover")


def test_small_pictures_get_one_width_not_an_upscale() -> None:
    variants = images.encode_picture(photo_bytes((640, 400), with_gps=False), "photo")
    assert {v.width for v in variants} == {480}


def test_alt_text_is_required() -> None:
    with pytest.raises(images.PictureError, match="Describe the picture"):
        images.clean_alt("   ")
    assert images.clean_alt("  志愿者 \n 发放冬衣 ") == "志愿者 发放冬衣"


def _upload(client, campaign, data: bytes, alt: str = "志愿者在学校发放冬衣"):  # type: ignore[no-untyped-def]
    return client.post(
        f"/campaigns/{campaign.id}/cover",
        data={"picture": (io.BytesIO(data), "IMG_0001.jpg"), "alt": alt},
        content_type="multipart/form-data",
    )


def test_owner_sets_a_cover_and_the_page_shows_it_without_layout_shift(
    client, login, owner, qualified_org, db_session
):  # type: ignore[no-untyped-def]
    campaign = CampaignFactory(organization=qualified_org)
    login(owner)
    response = _upload(client, campaign, photo_bytes())
    assert response.status_code == 303
    assert campaign.cover_image is not None and campaign.cover_alt == "志愿者在学校发放冬衣"
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert '<source type="image/webp" srcset="/img/' in page
    img = re.search(r"<img src=\"/img/[0-9a-f]{64}\.jpg\"[^>]*>", page)
    assert img, "no cover <img>"
    tag = img.group(0)
    assert 'width="960" height="540"' in tag
    assert 'alt="志愿者在学校发放冬衣"' in tag
    assert "480w" in tag and "960w" in tag and "sizes=" in tag


def test_variants_are_served_immutable_and_only_variants_are(
    client, login, owner, qualified_org, app, db_session
):  # type: ignore[no-untyped-def]
    campaign = CampaignFactory(organization=qualified_org)
    login(owner)
    _upload(client, campaign, photo_bytes())
    webp = next(v for v in campaign.cover_image.variants if v.content_type == "image/webp")
    login(None)
    response = client.get(f"/img/{webp.sha256}.webp")
    assert response.status_code == 200
    assert response.mimetype == "image/webp"
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/img/{webp.sha256}.jpg").status_code == 404  # wrong extension
    evidence = uploads.store_file(app.config["UPLOAD_DIR"], b"%PDF-1.4 private evidence")
    assert client.get(f"/img/{evidence.sha256}.jpg").status_code == 404
    assert client.get(f"/img/{'0' * 64}.webp").status_code == 404


def test_a_refused_cover_keeps_the_old_one_and_says_why(
    client, login, owner, qualified_org, db_session
):  # type: ignore[no-untyped-def]
    campaign = CampaignFactory(organization=qualified_org)
    login(owner)
    response = _upload(client, campaign, b"%PDF-1.4 not a picture")
    assert response.status_code == 422
    assert "Upload a JPEG, PNG or WebP picture." in response.get_data(as_text=True)
    response = _upload(client, campaign, photo_bytes(), alt="")
    assert response.status_code == 422
    db_session.refresh(campaign)
    assert campaign.cover_image_id is None


def test_strangers_and_finance_members_cannot_change_the_cover(
    client, login, qualified_org, db_session
):  # type: ignore[no-untyped-def]
    from tests.support.factories import MembershipFactory

    campaign = CampaignFactory(organization=qualified_org)
    login(UserFactory())
    assert _upload(client, campaign, photo_bytes()).status_code == 403
    login(MembershipFactory(organization=qualified_org, role="finance").user)
    assert _upload(client, campaign, photo_bytes()).status_code == 403
    assert campaign.cover_image_id is None


def test_an_update_carries_a_lazy_photo_with_its_description(
    client, login, editor, qualified_org, db_session
):  # type: ignore[no-untyped-def]
    campaign = CampaignFactory(organization=qualified_org)
    login(editor)
    response = client.post(
        f"/campaigns/{campaign.id}/updates",
        data={
            "title": "第一批冬衣已送到",
            "body_md": "感谢大家。",
            "photo": (io.BytesIO(photo_bytes()), "photo.jpg"),
            "photo_alt": "装满冬衣的纸箱",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    update = db_session.scalar(
        select(CampaignUpdate).where(CampaignUpdate.campaign_id == campaign.id)
    )
    assert update.photo_image is not None and update.photo_alt == "装满冬衣的纸箱"
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    tag = re.search(r"<img [^>]*alt=\"装满冬衣的纸箱\"[^>]*>", page).group(0)  # type: ignore[union-attr]
    assert 'loading="lazy"' in tag and 'width="960" height="1280"' in tag


def test_an_update_photo_without_a_description_posts_nothing(
    client, login, editor, qualified_org, db_session
):  # type: ignore[no-untyped-def]
    campaign = CampaignFactory(organization=qualified_org)
    login(editor)
    response = client.post(
        f"/campaigns/{campaign.id}/updates",
        data={
            "title": "第一批冬衣已送到",
            "body_md": "感谢大家。",
            "photo": (io.BytesIO(photo_bytes()), "photo.jpg"),
            "photo_alt": "",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert db_session.scalar(select(CampaignUpdate.id)) is None


def test_demo_covers_are_drawn_small() -> None:
    variants = images.encode_pixels(draw_cover("DEMO-1", "education"), "cover")
    assert max(len(v.data) for v in variants if v.content_type == "image/webp") < 30_000
    assert {(v.width, v.height) for v in variants} == {(480, 270), (960, 540)}


def test_the_same_pixels_twice_are_one_file(app, db_session, qualified_org) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        images.store_variants(
            db_session,
            app.config["UPLOAD_DIR"],
            images.encode_pixels(draw_cover("SAME", "health"), "cover"),
            kind="cover",
            organization_id=qualified_org.id,
            actor=None,
        )
        db_session.flush()
    assert len(db_session.scalars(select(ImageVariant)).all()) == 4
