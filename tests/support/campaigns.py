"""Campaigns helpers shared by several test packages: draft campaigns and gifts (factories),
signing in, the filing form's fields, a statement counter.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

from PIL import Image as PILImage

from tests.support.factories import (
    CampaignFactory,
    session_id,
)


class DraftCampaignFactory(CampaignFactory):
    status = "draft"


def sign_in(client, user) -> None:  # type: ignore[no-untyped-def]
    """Like the shared ``login`` fixture, as a plain function for helpers and classes."""
    with client.session_transaction() as session:
        session["_user_id"] = session_id(user)
        session["_fresh"] = True


def plan_form(today: date, **overrides: object) -> dict[str, object]:
    """A complete, valid filing form as a browser would post it."""
    data: dict[str, object] = {
        "title": "乡村学校图书角",
        "summary": "为 20 所乡村小学建设图书角。",
        "cause": "education",
        "purpose_md": "让乡村孩子读上好书。",
        "filing_number": "53440100MJL0000001A26001",
        "filing_date": (today - timedelta(days=2)).isoformat(),
        "start_date": (today + timedelta(days=8)).isoformat(),
        "end_date": (today + timedelta(days=100)).isoformat(),
        "region": "广东省梅州市",
        "person_in_charge": "周五",
        "acceptance_methods": "平台在线捐赠",
        "receiving_account": "中国银行梅州分行 6217 0000 0000 0000",
        "beneficiaries": "梅州市 20 所乡村小学的学生",
        "use_of_funds": "购书和书架",
        "fundraising_cost": "不超过 2%",
        "leftover_plan": "转入同类项目",
        "expected_amount": "500,000",
        "partner_uscc": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.statements.append(statement)


GPS_LATITUDE = 0x8825  # the GPSInfo IFD tag


def photo_bytes(size=(1600, 1200), fmt="JPEG", mode="RGB", with_gps=True) -> bytes:  # type: ignore[no-untyped-def]
    picture = PILImage.new(mode, size, (200, 120, 40) if mode == "RGB" else (200, 120, 40, 128))
    exif = PILImage.Exif()
    if with_gps:
        exif[0x010F] = "CameraMaker"  # Make
        exif[0x0112] = 6  # Orientation: rotate 90 degrees
        exif.get_ifd(GPS_LATITUDE)[2] = (22.0, 32.0, 10.0)  # GPSLatitude
    output = io.BytesIO()
    if fmt == "PNG":
        picture.save(output, fmt)
    else:
        picture.save(output, fmt, exif=exif.tobytes())
    return output.getvalue()
