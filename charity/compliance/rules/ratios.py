"""Annual spending and management-cost ratios (Charity Law art. 61; 民发〔2016〕189号).

Encoded from 《关于慈善组织开展慈善活动年度支出和管理费用的规定》(民发〔2016〕189号):
- Qualified foundations (公募基金会): charitable-activity spending ≥ 70% of last year's
  total income (or of the three-year average), management costs ≤ 10% of this year's
  total spending — set by the Charity Law itself (2016 art. 60, 2023 art. 61).
- Art. 7, qualified social groups and social service institutions: 70% / 13%.
- Art. 8, foundations without the qualification, by net assets at the end of last year:
  ≥ ¥60M: 6% of net assets / 12%; ¥8M–60M: 6% / 13%; ¥4M–8M: 7% / 15%; < ¥4M: 8% / 20%.
- Art. 9, social groups and service institutions without the qualification:
  ≥ ¥10M: 6% / 13%; ¥5M–10M: 7% / 14%; ¥1M–5M: 8% / 15%;
  < ¥1M: 8% of net assets and at least 50% of last year's income / 20%.
  (Lower bounds are inclusive: "高于1000万元(含本数)".)
- Art. 10: the three-year average of income and of year-end net assets may replace last
  year's figures when computing the spending ratio.
- Art. 11: management costs under ¥200,000 are exempt from the management ratios of
  arts. 7–9 (not from the statutory 10% of qualified foundations).
All arithmetic is on integer fen: spending × 100 ≥ percentage × base.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _

from charity.core.money import format_fen

YUAN = 100
MANAGEMENT_EXEMPT_BELOW_FEN = 200_000 * YUAN


@dataclass(frozen=True)
class Band:
    #: Lower bound (inclusive) of last year's net assets, in fen.
    min_net_assets_fen: int
    spending_pct_of_net_assets: int
    management_pct: int
    #: Art. 9 (4): also at least this share of last year's income.
    spending_pct_of_income: int = 0


FOUNDATION_BANDS = (
    Band(60_000_000 * YUAN, 6, 12),
    Band(8_000_000 * YUAN, 6, 13),
    Band(4_000_000 * YUAN, 7, 15),
    Band(0, 8, 20),
)
SOCIAL_BANDS = (
    Band(10_000_000 * YUAN, 6, 13),
    Band(5_000_000 * YUAN, 7, 14),
    Band(1_000_000 * YUAN, 8, 15),
    Band(0, 8, 20, spending_pct_of_income=50),
)


@dataclass(frozen=True)
class RatioInput:
    org_type: str
    qualified: bool
    last_year_income_fen: int
    charitable_spending_fen: int
    management_costs_fen: int
    total_spending_fen: int
    prior_net_assets_fen: int
    avg_income_3y_fen: int | None = None
    avg_net_assets_3y_fen: int | None = None


@dataclass
class RatioResult:
    source: str
    spending_required_fen: int
    spending_ok: bool
    used_average: bool
    management_limit_pct: int
    management_ok: bool
    management_exempt: bool
    data: RatioInput | None = None

    @property
    def ok(self) -> bool:
        return self.spending_ok and self.management_ok

    @property
    def explanation(self) -> list[str]:
        """In words, in the request's language (needs a request context)."""
        assert self.data is not None
        return explain(self.data, self)


def _pct(amount: int, pct: int) -> int:
    """pct% of amount in fen, rounded up (the threshold must be met in full)."""
    return -(-amount * pct // 100)


def band_for(org_type: str, net_assets_fen: int) -> Band:
    bands = FOUNDATION_BANDS if org_type == "foundation" else SOCIAL_BANDS
    return next(band for band in bands if net_assets_fen >= band.min_net_assets_fen)


def _required(data: RatioInput, income: int, net_assets: int) -> tuple[int, int, str]:
    """(spending required in fen, management limit %, source) for one set of bases."""
    if data.qualified:
        limit = 10 if data.org_type == "foundation" else 13
        source = (
            "Charity Law art. 61" if data.org_type == "foundation" else "民发〔2016〕189号 art. 7"
        )
        return _pct(income, 70), limit, source
    band = band_for(data.org_type, net_assets)
    required = _pct(net_assets, band.spending_pct_of_net_assets)
    if band.spending_pct_of_income:
        required = max(required, _pct(income, band.spending_pct_of_income))
    article = "art. 8" if data.org_type == "foundation" else "art. 9"
    return required, band.management_pct, f"民发〔2016〕189号 {article}"


def check_ratios(data: RatioInput) -> RatioResult:
    required, limit, source = _required(data, data.last_year_income_fen, data.prior_net_assets_fen)
    spending_ok = data.charitable_spending_fen >= required
    used_average = False
    if not spending_ok and data.avg_income_3y_fen is not None:
        avg_net = data.avg_net_assets_3y_fen
        avg_required, _limit, _src = _required(
            data, data.avg_income_3y_fen, data.prior_net_assets_fen if avg_net is None else avg_net
        )
        if data.charitable_spending_fen >= avg_required:
            spending_ok, used_average, required = True, True, avg_required
    exempt = not (data.qualified and data.org_type == "foundation") and (
        data.management_costs_fen < MANAGEMENT_EXEMPT_BELOW_FEN
    )
    management_ok = exempt or data.management_costs_fen * 100 <= limit * data.total_spending_fen
    return RatioResult(
        source, required, spending_ok, used_average, limit, management_ok, exempt, data
    )


def explain(data: RatioInput, result: RatioResult) -> list[str]:
    lines = [
        _(
            "Charitable-activity spending %(spent)s against a required minimum of "
            "%(required)s (%(source)s): %(verdict)s.",
            spent=format_fen(data.charitable_spending_fen),
            required=format_fen(result.spending_required_fen),
            source=result.source,
            verdict=_("met") if result.spending_ok else _("not met"),
        )
    ]
    if result.used_average:
        lines.append(_("Met using the three-year averages allowed by 民发〔2016〕189号 art. 10."))
    if result.management_exempt:
        lines.append(
            _(
                "Management costs %(costs)s are under ¥200,000 and exempt from the ratio "
                "(民发〔2016〕189号 art. 11).",
                costs=format_fen(data.management_costs_fen),
            )
        )
    else:
        lines.append(
            _(
                "Management costs %(costs)s against a limit of %(limit)s%% of this year's "
                "spending %(total)s: %(verdict)s.",
                costs=format_fen(data.management_costs_fen),
                limit=result.management_limit_pct,
                total=format_fen(data.total_spending_fen),
                verdict=_("met") if result.management_ok else _("not met"),
            )
        )
    return lines


def ratio_input_from_fields(fields: Mapping, org_type: str, qualified: bool) -> RatioInput:
    """Build the input from an annual financial report's stored fields."""
    return RatioInput(
        org_type=org_type,
        qualified=qualified,
        last_year_income_fen=int(fields["last_year_income_fen"]),
        charitable_spending_fen=int(fields["charitable_spending_fen"]),
        management_costs_fen=int(fields["management_costs_fen"]),
        total_spending_fen=int(fields["total_spending_fen"]),
        prior_net_assets_fen=int(fields["prior_net_assets_fen"]),
        avg_income_3y_fen=fields.get("avg_income_3y_fen"),
        avg_net_assets_3y_fen=fields.get("avg_net_assets_3y_fen"),
    )
