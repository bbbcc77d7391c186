"""Monthly gifts carry a company's USCC and 发票抬头 like one-off gifts (issue 17 point 5):
every month's Donation gets them, so the organization can issue the finance bureau's bill
(公益事业捐赠统一票据) for each payment. Messages with contact spam are refused at the door
(point 9), for one-off and monthly gifts alike, with a clear error and nothing stored."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from charity.extensions import db
from charity.models import Donation, RecurringGift
from tests.support.factories import make_uscc
from tests.support.gifts import give_monthly, renewal_invoice, set_up_card
from tests.support.payments import event, post_event

COMPANY_USCC = make_uscc("1", 5151)


def test_a_company_gives_monthly_and_every_payment_carries_its_bill_details(client, campaign):
    gift = give_monthly(
        client, campaign, company_uscc=COMPANY_USCC.lower(), invoice_title="示例月捐有限公司"
    )
    assert (gift.donor_uscc, gift.invoice_title) == (COMPANY_USCC, "示例月捐有限公司")
    assert set_up_card(client, gift).status_code == 200
    assert (
        post_event(client, event("invoice.payment_succeeded", renewal_invoice(gift))).json["status"]
        == "applied"
    )
    payments = db.session.scalars(
        sa.select(Donation).where(Donation.recurring_gift_id == gift.id)
    ).all()
    assert len(payments) == 2
    assert {(d.donor_uscc, d.invoice_title) for d in payments} == {
        (COMPANY_USCC, "示例月捐有限公司")
    }
    page = client.get(f"/monthly/{gift.public_token}?lang=zh_Hans_CN").get_data(as_text=True)
    assert "您申请每月的票据抬头为 示例月捐有限公司" in page
    # each payment's own page says the same as a one-off company gift's
    one = client.get(f"/donations/{payments[0].public_token}?lang=zh_Hans_CN").get_data(
        as_text=True
    )
    assert "示例月捐有限公司" in one and COMPANY_USCC in one


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {
                "company_uscc": COMPANY_USCC[:-1] + "0"
                if COMPANY_USCC[-1] != "0"
                else COMPANY_USCC[:-1] + "1",
                "invoice_title": "示例",
            },
            "not a valid unified social credit code",
        ),
        ({"company_uscc": COMPANY_USCC, "invoice_title": ""}, "Enter the name the bill"),
    ],
)
def test_a_wrong_company_entry_on_a_monthly_gift_stores_nothing(client, campaign, fields, message):
    data = {
        "amount": "5000",
        "frequency": "monthly",
        "donor_name": "王",
        "donor_email": "a@b.cn",
        **fields,
    }
    response = client.post(f"/campaigns/{campaign.id}/donate", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecurringGift)) == 0


@pytest.mark.parametrize("frequency", ["once", "monthly"])
def test_a_message_with_a_phone_number_is_a_clear_error(client, campaign, frequency):
    data = {
        "amount": "5000",
        "frequency": frequency,
        "donor_name": "王",
        "donor_email": "a@b.cn",
        "message": "加油！有需要联系 139-1234-5678",
    }
    response = client.post(f"/campaigns/{campaign.id}/donate?lang=zh_Hans_CN", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "留言不能包含网址、电子邮箱或电话号码。" in page
    assert "139-1234-5678" in page  # what the donor typed stays in the form
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecurringGift)) == 0
