"""Fixtures for the organizations area."""

from __future__ import annotations

import pytest

from tests.support.factories import make_uscc


@pytest.fixture
def application_form() -> dict[str, str]:
    """A complete, valid application as a browser would post it."""
    return {
        "name": "广州市海珠区邻里互助会",
        "uscc": make_uscc("1", 777),
        "registration_authority": "广州市海珠区民政局",
        "registered_on": "2020-05-18",
        "province": "广东省",
        "city": "广州市",
        "district": "海珠区",
        "address": "广州市海珠区江南大道 1 号",
        "contact_name": "林小姐",
        "contact_phone": "020-84440000",
        "contact_email": "Contact@Example.org",
        "website": "https://example.org",
        "description_md": "我们组织**邻里互助**。",
        "qualification_number": "",
        "qualification_authority": "",
        "qualification_date": "",
    }
