"""Public API resource for the registry of charitable trusts (慈善信托; issue 16 point 14)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from charity.api import fields as f
from charity.api.resources import Resource
from charity.models.trust import CharitableTrust, TrustSettlor


def _public_trusts():  # type: ignore[no-untyped-def]
    return select(CharitableTrust)


def _settlors(session: Session, rows: list[CharitableTrust]) -> dict[int, list[dict[str, Any]]]:
    """Each trust's settlors, in one query for the page."""
    found: dict[int, list[dict[str, Any]]] = {row.id: [] for row in rows}
    if rows:
        for settlor in session.scalars(
            select(TrustSettlor)
            .where(TrustSettlor.trust_id.in_(list(found)))
            .order_by(TrustSettlor.id)
        ):
            found[settlor.trust_id].append(
                {
                    "name": settlor.name,
                    "amount_fen": settlor.amount_fen,
                    "organization_id": settlor.organization_id,
                }
            )
    return found


SETTLOR = {
    "type": "object",
    "required": ["name", "amount_fen", "organization_id"],
    "properties": {
        "name": {"type": "string"},
        "amount_fen": {"type": "integer", "minimum": 0},
        "organization_id": {"type": ["integer", "null"]},
    },
}

TRUSTS = Resource(
    name="trusts",
    schema_name="CharitableTrust",
    summary="Charitable trusts (慈善信托)",
    description="The registry of charitable trusts filed with civil affairs departments, "
    "newest first: filing number (备案编号) and date, trustee (a charity on the platform "
    "or a trust company), settlors, purpose, property and term. Charity trustees' "
    "yearly reports and charity settlors' 30-day disclosures (MCA Order 81 art. 12) are "
    "disclosures with the subject_key trust:<id>.",
    model=CharitableTrust,
    public=_public_trusts,
    newest_first=True,
    context=_settlors,
    fields=(
        f.integer("id", "Stable identifier.", example=2),
        f.string("name", "Name of the trust.", example="示例山区助学慈善信托"),
        f.string("filing_number", "Filing number (备案编号).", example="示例备案-2026-001"),
        f.day("filing_date", "Filing date (China Standard Time)."),
        f.string("filing_authority", "Civil affairs department.", example="广州市民政局"),
        f.string("province", "Province of that department.", example="广东省"),
        f.integer(
            "trustee_org_id",
            "Trustee charity on the platform, or null.",
            nullable=True,
            example=7,
        ),
        f.string("trustee_company", "Trust company trustee ('' when a charity).", example=""),
        f.string("purpose", "Purpose.", example="资助山区学校。"),
        f.integer("assets_fen", "Trust property at establishment, in fen.", example=100_000_000),
        f.string("assets_note", "Property other than money.", example=""),
        f.day("established_on", "Set up on."),
        f.day("term_end", "Last day of the term, or null (no fixed term).", nullable=True),
        f.computed(
            "settlors",
            {"type": "array", "items": SETTLOR},
            lambda row, context: list(context.get(row.id, [])),
            "Settlors (委托人) and the amounts entrusted.",
            example=[
                {"name": "示例科技有限公司", "amount_fen": 100_000_000, "organization_id": None}
            ],
        ),
    ),
    filters=(
        f.text_filter(
            "province",
            "Only trusts filed in this province.",
            lambda s, v: s.where(CharitableTrust.province == v),
            max_length=32,
        ),
        f.id_filter(
            "trustee",
            "Only trusts of this trustee charity.",
            lambda s, v: s.where(CharitableTrust.trustee_org_id == v),
        ),
    ),
)
