"""Where each kind of user goes next (issue 17 point 3): the header's links by role and the
page after logging in or signing up.

- everyone signed in: 我的捐赠 (``donor.account_gifts``, the one page of one's gifts);
- members of an organization: 我的机构; users with none: 登记慈善组织;
- platform administrators: the review queue; regulators (and administrators): the dashboard.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

MY_GIFTS = ("donor.account_gifts", _l("My gifts"))
MY_ORGS = ("orgs.mine", _l("My organizations"))
REGISTER_ORG = ("orgs.apply", _l("Register a charity"))
REVIEW_QUEUE = ("admin.organizations", _l("Review queue"))
DASHBOARD = ("regulator.index", _l("Compliance dashboard"))


def role_links(user: Any = None) -> list[tuple[str, str]]:
    """(href, label) of the pages this user works from, in the header's order."""
    user = user if user is not None else current_user
    if not getattr(user, "is_authenticated", False):
        return []
    links = [MY_GIFTS]
    if user.active_memberships:
        links.append(MY_ORGS)
    elif user.platform_role == "donor":
        links.append(REGISTER_ORG)
    if user.platform_role == "admin":
        links.append(REVIEW_QUEUE)
    if user.platform_role in ("admin", "regulator"):
        links.append(DASHBOARD)
    return [(url_for(endpoint), str(label)) for endpoint, label in links]


def landing_endpoint(user: Any) -> str:
    """After logging in without a ``next``: the page where this user's work is."""
    if user.platform_role == "regulator":
        return "regulator.index"
    if user.platform_role == "admin":
        return "admin.organizations"
    if len(user.active_memberships) == 1:
        return "orgs.manage"
    if user.active_memberships:
        return "orgs.mine"
    return "donor.account_gifts"


def landing_url(user: Any) -> str:
    endpoint = landing_endpoint(user)
    if endpoint == "orgs.manage":
        return url_for(endpoint, org_id=user.active_memberships[0].organization_id)
    return url_for(endpoint)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["role_links"] = role_links
