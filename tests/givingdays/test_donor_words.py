"""A giving day in the donor's words: the match line on the receipt is punctuated in the
page's language, and the leaderboards name a campaign, charity, region or team (名称), not a
person's name (姓名)."""

from __future__ import annotations

import pytest

from charity.extensions import db
from charity.services import givingdays
from tests.support.factories import UserFactory
from tests.support.givingdays import give


@pytest.mark.chinese
def test_the_match_note_has_chinese_brackets_on_a_chinese_receipt(client, day):  # type: ignore[no-untyped-def]
    gift = give(day.campaign, 5000)
    html = client.get(f"/donations/{gift.public_token}").get_data(as_text=True)
    assert "（由配捐方支付给该项目，不计入您的捐赠额）" in html
    assert "(由配捐方" not in html


def test_the_match_note_in_english(client, day):  # type: ignore[no-untyped-def]
    gift = give(day.campaign, 5000)
    html = client.get(f"/donations/{gift.public_token}").get_data(as_text=True)
    assert "(paid by the sponsor to the campaign, not part of your gift)" in html


@pytest.mark.chinese
def test_leaderboards_name_things_not_people(client, day):  # type: ignore[no-untyped-def]
    team = givingdays.create_team(
        db.session,
        UserFactory(),
        givingdays.NewTeam(day.campaign.id, "越秀跑团", 100_000, "一起来"),
    )
    give(day.campaign, 5000, team_id=team.id)
    html = client.get(f"/events/{day.event.id}").get_data(as_text=True)
    assert '<th scope="col">名称</th>' in html
    assert '<th scope="col">姓名</th>' not in html
