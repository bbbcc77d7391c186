"""Share posters, 我捐了 cards and link previews (issue 17 point 9, issue 18 point 5)."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from PIL import Image as PILImage

from charity.services import posters
from charity.services.artwork import draw_cover
from tests.support.campaigns import photo_bytes
from tests.support.factories import CampaignFactory, DonationFactory, UserFactory

BASE = "https://give.example.org/"


@pytest.fixture
def public_base(app):  # type: ignore[no-untyped-def]
    previous = app.config.get("PUBLIC_BASE_URL")
    app.config["PUBLIC_BASE_URL"] = BASE
    yield BASE
    app.config["PUBLIC_BASE_URL"] = previous


def _meta(page: str, key: str) -> str | None:
    found = re.search(
        rf'<meta (?:property|name|itemprop)="{re.escape(key)}" content="([^"]*)"', page
    )
    return found.group(1) if found else None


def _png(response) -> PILImage.Image:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "image/png"
    return PILImage.open(io.BytesIO(response.data))


def test_campaign_page_has_open_graph_and_wechat_metadata(
    client, login, owner, qualified_org, public_base, db_session
):  # type: ignore[no-untyped-def]
    campaign = CampaignFactory(organization=qualified_org, summary="为 20 所乡村小学建设图书角。")
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert _meta(page, "og:title") == campaign.title
    assert _meta(page, "og:description") == "为 20 所乡村小学建设图书角。"
    assert _meta(page, "description") == "为 20 所乡村小学建设图书角。"
    assert _meta(page, "og:url") == f"{BASE}campaigns/{campaign.id}"
    # No cover yet: the poster is the picture, on the public address.
    assert _meta(page, "og:image") == f"{BASE}campaigns/{campaign.id}/poster.png"
    assert _meta(page, "itemprop") is None and _meta(page, "name") == campaign.title  # WeChat
    assert _meta(page, "image") == _meta(page, "og:image")
    login(owner)
    client.post(
        f"/campaigns/{campaign.id}/cover",
        data={"picture": (io.BytesIO(photo_bytes()), "a.jpg"), "alt": "冬衣"},
        content_type="multipart/form-data",
    )
    login(None)
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    image = _meta(page, "og:image")
    assert image and re.fullmatch(rf"{re.escape(BASE)}img/[0-9a-f]{{64}}\.jpg", image)
    assert _meta(page, "og:image:width") == "960" and _meta(page, "og:image:height") == "540"
    assert _meta(page, "twitter:card") == "summary_large_image"
    assert client.get("/" + image.removeprefix(BASE)).mimetype == "image/jpeg"


def test_other_public_pages_describe_themselves(client, qualified_org, public_base, db_session):  # type: ignore[no-untyped-def]
    from tests.support.givingdays import make_day

    qualified_org.description_md = "我们在梅州做乡村教育。"
    home = client.get("/").get_data(as_text=True)
    page = client.get(f"/orgs/{qualified_org.id}").get_data(as_text=True)
    assert _meta(page, "og:title") == qualified_org.name
    assert _meta(page, "og:description") == "我们在梅州做乡村教育。"
    assert _meta(page, "description") != _meta(home, "description")
    day = make_day()
    page = client.get(f"/events/{day.event.id}").get_data(as_text=True)
    assert _meta(page, "og:title") == day.event.name
    assert _meta(page, "og:image") == f"{BASE}events/{day.event.id}/poster.png"


def test_campaign_poster_is_a_chinese_png_with_the_page_in_its_qr(
    client, qualified_org, public_base, db_session
):  # type: ignore[no-untyped-def]
    campaign = CampaignFactory(organization=qualified_org)
    DonationFactory(campaign=campaign, status="succeeded", amount_fen=64_000)
    response = client.get(f"/campaigns/{campaign.id}/poster.png")
    picture = _png(response)
    assert picture.size == (750, 1240)
    assert response.headers["Cache-Control"].startswith("public")
    poster = posters.campaign_poster(db_session, campaign, f"{BASE}campaigns/{campaign.id}")
    assert (poster.raised_fen, poster.gift_count) == (64_000, 1)
    assert poster.url == f"{BASE}campaigns/{campaign.id}"
    assert all(ord(char) > 0x2E7F for char in poster.kicker)  # Chinese words only
    # A conditional GET of the same poster is a 304.
    etag = response.headers["ETag"]
    assert (
        client.get(
            f"/campaigns/{campaign.id}/poster.png", headers={"If-None-Match": etag}
        ).status_code
        == 304
    )


def test_a_draft_has_no_poster(client, qualified_org, db_session):  # type: ignore[no-untyped-def]
    campaign = CampaignFactory(organization=qualified_org, status="draft")
    assert client.get(f"/campaigns/{campaign.id}/poster.png").status_code == 404


def test_posters_change_with_the_totals(app, db_session, qualified_org, tmp_path) -> None:  # type: ignore[no-untyped-def]
    campaign = CampaignFactory(organization=qualified_org)
    before = posters.campaign_poster(db_session, campaign, BASE)
    DonationFactory(campaign=campaign, status="succeeded")
    after = posters.campaign_poster(db_session, campaign, BASE)
    assert posters.cache_key("poster", before) != posters.cache_key("poster", after)
    assert posters.render_poster(before, tmp_path) != posters.render_poster(after, tmp_path)


def test_team_poster_leads_to_the_team_page_and_a_hidden_team_has_none(
    client, public_base, db_session
):  # type: ignore[no-untyped-def]
    from charity.services import givingdays
    from tests.support.givingdays import make_day

    day = make_day()
    team = givingdays.create_team(
        db_session,
        UserFactory(),
        givingdays.NewTeam(campaign_id=day.campaign.id, name="梅州校友队", goal_fen=500_000),
    )
    db_session.flush()
    _png(client.get(f"/teams/{team.id}/poster.png"))
    poster = posters.team_poster(db_session, team, f"{BASE}teams/{team.id}")
    assert poster.kicker == "一起捐 · 梅州校友队"
    page = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert f'href="/teams/{team.id}/poster.png"' in page
    assert f"team={team.id}" in page  # the page's donate link carries the team
    givingdays.hide_team(db_session, day.owner, team.id, "广告")
    assert client.get(f"/teams/{team.id}/poster.png").status_code == 404
    _png(client.get(f"/events/{day.event.id}/poster.png"))


def test_gift_card_shows_no_name_and_the_amount_only_when_asked(
    client, qualified_org, public_base, db_session
):  # type: ignore[no-untyped-def]
    campaign = CampaignFactory(organization=qualified_org)
    gift = DonationFactory(
        campaign=campaign, status="succeeded", amount_fen=20_000, donor_name="陈捐赠"
    )
    page = client.get(f"/donations/{gift.public_token}").get_data(as_text=True)
    assert f"/donations/{gift.public_token}/card.png" in page
    plain = client.get(f"/donations/{gift.public_token}/card.png")
    shown = client.get(f"/donations/{gift.public_token}/card.png?amount=1")
    assert _png(plain).size == _png(shown).size
    assert plain.data != shown.data
    assert plain.headers["Cache-Control"].startswith("private")
    card = posters.gift_card(gift, BASE, show_amount=False)
    assert card.amount_fen is None
    assert "陈捐赠" not in repr(card)  # nothing about the donor goes into the picture
    assert posters.gift_card(gift, BASE, show_amount=True).amount_fen == 20_000


def test_no_card_for_a_gift_that_did_not_succeed(client, qualified_org, db_session):  # type: ignore[no-untyped-def]
    gift = DonationFactory(campaign=CampaignFactory(organization=qualified_org))
    assert client.get(f"/donations/{gift.public_token}/card.png").status_code == 404
    assert client.get("/donations/not-a-token/card.png").status_code == 404


def test_the_poster_draws_the_campaigns_cover_when_it_has_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from charity.services import images, uploads

    variants = images.encode_pixels(draw_cover("COVER", "health"), "cover")
    stored = [uploads.store_file(tmp_path, v.data) for v in variants]
    jpeg = next(s for s, v in zip(stored, variants, strict=True) if v.content_type == "image/jpeg")
    common = {"kicker": "公开募捐", "title": "标题", "byline": "机构", "raised_fen": 0,
              "goal_fen": 100, "gift_count": 0, "url": BASE, "seed": "OTHER"}  # fmt: skip
    with_cover = posters.render_poster(posters.Poster(**common, cover_sha256=jpeg.sha256), tmp_path)
    drawn = posters.render_poster(posters.Poster(**common), tmp_path)
    assert with_cover != drawn
    card = posters.GiftCard("标题", "机构", None, date(2026, 6, 30), BASE, "S")
    assert PILImage.open(io.BytesIO(posters.render_card(card, tmp_path))).size == (750, 1090)
