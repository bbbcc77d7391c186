"""Share posters and 我捐了 cards: PNGs people post in WeChat Moments (issue 17 point 9,
issue 18 point 5).

A poster is a Chinese artefact, like a printed flyer: its words are Chinese whatever
language the page that links it is in. It carries a picture (the campaign's cover, or an
abstract drawing), the title, who runs it, the progress and a QR code to the page (for a
team: the team's page, whose donate button carries the team). Text is set in the CJK font
the PDF receipts use (:func:`charity.services.receipts.find_cjk_font`).

A 我捐了 card names the campaign and its organization, never the donor; the amount only when
the donor asks for it. Both are rendered from a frozen description, so their cache key is
their content (:func:`cache_key`).
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import astuple, dataclass
from datetime import date
from functools import cache

import segno
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont, ImageOps
from sqlalchemy.orm import Session

from charity.core.clock import cst_date
from charity.core.money import format_fen
from charity.models import Campaign, Donation, GivingDay, Image, ImageVariant, Team
from charity.services import uploads
from charity.services.artwork import draw_cover
from charity.services.campaign_stats import campaign_stats
from charity.services.givingday_stats import event_stats, team_raised
from charity.services.receipts import find_cjk_font

WIDTH = 750
PAD = 56
BRAND = (180, 35, 42)
INK = (34, 34, 34)
MUTED = (110, 110, 110)
PAPER = (255, 250, 245)
TRACK = (238, 226, 218)
SITE_NAME = "公益慈善平台"
SITE_LINE = "每一笔捐赠都记录在公开、可验证的日志中"


@dataclass(frozen=True)
class Poster:
    """What a poster shows. ``kicker`` is the small line above the title (e.g. 一起捐)."""

    kicker: str
    title: str
    byline: str
    raised_fen: int
    goal_fen: int | None
    gift_count: int
    url: str
    seed: str
    cause: str = "other"
    #: The stored JPEG of the cover to show (its sha256), else an abstract drawing.
    cover_sha256: str | None = None
    dates: str = ""


@dataclass(frozen=True)
class GiftCard:
    campaign_title: str
    organization: str
    amount_fen: int | None
    day: date
    url: str
    seed: str
    cause: str = "other"
    cover_sha256: str | None = None


def cache_key(kind: str, what: Poster | GiftCard) -> str:
    digest = hashlib.blake2b(repr(astuple(what)).encode(), digest_size=16).hexdigest()
    return f"{kind}:{digest}"


@cache
def _font(size: int, configured: str | None = None) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_cjk_font(configured)), size)


def largest_jpeg(image: Image | None) -> str | None:
    """The sha256 of the widest JPEG variant of a picture (what a poster draws)."""
    if image is None:
        return None
    jpegs: list[ImageVariant] = [v for v in image.variants if v.content_type == "image/jpeg"]
    return jpegs[-1].sha256 if jpegs else None


def _picture(upload_dir: str | os.PathLike[str], what: Poster | GiftCard, height: int):  # type: ignore[no-untyped-def]
    data = uploads.read_stored(upload_dir, what.cover_sha256) if what.cover_sha256 else None
    picture = PILImage.open(io.BytesIO(data)).convert("RGB") if data else None
    if picture is None:
        picture = draw_cover(what.seed, what.cause)
    return ImageOps.fit(picture, (WIDTH, height), PILImage.Resampling.LANCZOS)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font, width: int, lines: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Chinese wraps between any two characters; the last line ends in … when cut."""
    out: list[str] = []
    current = ""
    for char in text:
        if draw.textlength(current + char, font=font) > width:
            out.append(current)
            current = char
            if len(out) == lines:
                break
        else:
            current += char
    else:
        out.append(current)
        return [line for line in out if line]
    last = out[-1]
    while last and draw.textlength(last + "…", font=font) > width:
        last = last[:-1]
    return [*out[:-1], last + "…"]


def _qr(url: str, size: int) -> PILImage.Image:
    output = io.BytesIO()
    segno.make(url, error="m").save(output, kind="png", scale=10, border=2)
    output.seek(0)
    code = PILImage.open(output).convert("RGB")
    return code.resize((size, size), PILImage.Resampling.NEAREST)


def _bold(draw, xy, text, font, fill) -> None:  # type: ignore[no-untyped-def]
    """The CJK font has one weight: a thin stroke in the same colour reads as bold."""
    draw.text(xy, text, font=font, fill=fill, stroke_width=1, stroke_fill=fill)


def _progress(draw, top: int, raised_fen: int, goal_fen: int | None, count: int) -> int:  # type: ignore[no-untyped-def]
    _bold(draw, (PAD, top), f"已筹 {format_fen(raised_fen)}", _font(44), BRAND)
    top += 66
    if goal_fen:
        share = min(1.0, raised_fen / goal_fen)
        right = WIDTH - PAD
        draw.rounded_rectangle([PAD, top, right, top + 16], radius=8, fill=TRACK)
        if share > 0:
            end = PAD + max(16, round((right - PAD) * share))
            draw.rounded_rectangle([PAD, top, end, top + 16], radius=8, fill=BRAND)
        top += 30
        draw.text((PAD, top), f"目标 {format_fen(goal_fen)}", font=_font(26), fill=MUTED)
    count_text = f"{count} 人次参与"
    count_width = draw.textlength(count_text, font=_font(26))
    left = WIDTH - PAD - count_width if goal_fen else PAD  # beside the goal, or on its own
    draw.text((left, top), count_text, font=_font(26), fill=MUTED)
    return top + 40


def _footer(canvas: PILImage.Image, draw, top: int, url: str, call: str) -> None:  # type: ignore[no-untyped-def]
    draw.line([(PAD, top), (WIDTH - PAD, top)], fill=TRACK, width=2)
    top += 36
    size = 220
    canvas.paste(_qr(url, size), (WIDTH - PAD - size, top))
    _bold(draw, (PAD, top + 30), call, _font(34), INK)
    draw.text((PAD, top + 86), "长按或扫描二维码", font=_font(26), fill=MUTED)
    draw.rounded_rectangle([PAD, top + 150, PAD + 44, top + 194], radius=10, fill=BRAND)
    _bold(draw, (PAD + 60, top + 154), SITE_NAME, _font(28), BRAND)
    for index, line in enumerate(_wrap(draw, SITE_LINE, _font(20), 380, 2)):
        draw.text((PAD, top + 210 + index * 28), line, font=_font(20), fill=MUTED)


def _png(canvas: PILImage.Image) -> bytes:
    output = io.BytesIO()
    canvas.quantize(colors=256, method=PILImage.Quantize.MEDIANCUT).save(
        output, "PNG", optimize=True
    )
    return output.getvalue()


def render_poster(poster: Poster, upload_dir: str | os.PathLike[str]) -> bytes:
    """The poster as a PNG, 750 pixels wide (a phone screen at 2x)."""
    cover_height = WIDTH * 9 // 16
    canvas = PILImage.new("RGB", (WIDTH, 1240), PAPER)
    canvas.paste(_picture(upload_dir, poster, cover_height), (0, 0))
    draw = ImageDraw.Draw(canvas)
    top = cover_height + 40
    if poster.kicker:
        kicker_width = draw.textlength(poster.kicker, font=_font(24)) + 28
        draw.rounded_rectangle(
            [PAD, top, PAD + kicker_width, top + 40], radius=20, fill=(252, 232, 226)
        )
        draw.text((PAD + 14, top + 6), poster.kicker, font=_font(24), fill=BRAND)
        top += 58
    for line in _wrap(draw, poster.title, _font(44), WIDTH - 2 * PAD, 2):
        _bold(draw, (PAD, top), line, _font(44), INK)
        top += 60
    for line in _wrap(draw, poster.byline, _font(26), WIDTH - 2 * PAD, 1):
        draw.text((PAD, top + 6), line, font=_font(26), fill=MUTED)
        top += 40
    if poster.dates:
        draw.text((PAD, top + 6), poster.dates, font=_font(24), fill=MUTED)
        top += 36
    top = _progress(draw, top + 28, poster.raised_fen, poster.goal_fen, poster.gift_count)
    _footer(canvas, draw, max(top + 16, 910), poster.url, "一起来支持")
    return _png(canvas)


def render_card(card: GiftCard, upload_dir: str | os.PathLike[str]) -> bytes:
    """我捐了: the campaign, its organization, the day, the amount only if asked; no name."""
    canvas = PILImage.new("RGB", (WIDTH, 1090), PAPER)
    picture_height = 300
    canvas.paste(_picture(upload_dir, card, picture_height), (0, 0))
    draw = ImageDraw.Draw(canvas)
    banner_top = picture_height - 70
    draw.rounded_rectangle([PAD, banner_top, PAD + 250, banner_top + 120], radius=24, fill=BRAND)
    _bold(draw, (PAD + 34, banner_top + 24), "我捐了", _font(64), (255, 255, 255))
    top = picture_height + 90
    draw.text((PAD, top), "我支持了", font=_font(28), fill=MUTED)
    top += 50
    for line in _wrap(draw, card.campaign_title, _font(44), WIDTH - 2 * PAD, 3):
        _bold(draw, (PAD, top), line, _font(44), INK)
        top += 60
    for line in _wrap(draw, f"由 {card.organization} 发起", _font(26), WIDTH - 2 * PAD, 1):
        draw.text((PAD, top + 6), line, font=_font(26), fill=MUTED)
        top += 44
    top += 24
    if card.amount_fen is not None:
        _bold(draw, (PAD, top), format_fen(card.amount_fen), _font(56), BRAND)
    else:
        _bold(draw, (PAD, top), "献出一份爱心", _font(48), BRAND)
    top += 84
    draw.text((PAD, top), _cst_day(card.day), font=_font(26), fill=MUTED)
    _footer(canvas, draw, max(top + 50, 760), card.url, "你也来支持")
    return _png(canvas)


# --- what each poster shows, from the records ---------------------------------------


def campaign_poster(session: Session, campaign: Campaign, url: str) -> Poster:
    stats = campaign_stats(session, [campaign.id])[campaign.id]
    return Poster(
        kicker="公开募捐",
        title=campaign.title,
        byline=f"发起机构：{campaign.organization.name}",
        raised_fen=stats.raised_fen,
        goal_fen=campaign.expected_amount_fen,
        gift_count=stats.gift_count,
        url=url,
        seed=campaign.filing_number,
        cause=campaign.cause,
        cover_sha256=largest_jpeg(campaign.cover_image),
    )


def team_poster(session: Session, team: Team, url: str) -> Poster:
    raised, gifts = team_raised(session, [team.id]).get(team.id, (0, 0))
    campaign = team.campaign
    return Poster(
        kicker=f"一起捐 · {team.name}",
        title=campaign.title,
        byline=f"发起机构：{campaign.organization.name}",
        raised_fen=raised,
        goal_fen=team.goal_fen,
        gift_count=gifts,
        url=url,
        seed=f"team-{team.id}-{campaign.filing_number}",
        cause=campaign.cause,
        cover_sha256=largest_jpeg(campaign.cover_image),
    )


def event_poster(session: Session, event: GivingDay, url: str) -> Poster:
    stats = event_stats(session, event)
    first = _cst_day(event.start_date)
    last = _cst_day(event.end_date)
    return Poster(
        kicker="公益日",
        title=event.name,
        byline=event.theme or "多家慈善组织共同参与",
        raised_fen=stats.raised_fen,
        goal_fen=None,
        gift_count=stats.gift_count,
        url=url,
        seed=f"event-{event.id}",
        cause="community",
        dates=first if first == last else f"{first} 至 {last}",
    )


def _cst_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def gift_card(donation: Donation, url: str, *, show_amount: bool) -> GiftCard:
    """我捐了 for a gift to a campaign: no donor name, the amount only when asked."""
    campaign = donation.campaign
    assert campaign is not None
    day = cst_date(donation.succeeded_at or donation.created_at)
    return GiftCard(
        campaign_title=campaign.title,
        organization=donation.organization.name,
        amount_fen=donation.amount_fen if show_amount else None,
        day=day,
        url=url,
        seed=campaign.filing_number,
        cause=campaign.cause,
        cover_sha256=largest_jpeg(campaign.cover_image),
    )
