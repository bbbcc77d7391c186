"""The permission helpers of charity.core.permissions, on routes that exist only in a test app."""

from __future__ import annotations

import pytest
from flask import abort

import config
from charity import create_app
from charity.core.permissions import admin_required, regulator_required, require_org_role
from tests.support.factories import (
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    enrol_two_factor,
    fresh_code,
    log_in,
)


@pytest.fixture(scope="module")
def guarded_app(database_url, tmp_path_factory):  # type: ignore[no-untyped-def]
    application = create_app(config.TestingConfig(database_url))
    application.instance_path = str(tmp_path_factory.mktemp("guarded"))

    @application.get("/_test/admin")
    @admin_required
    def admin_only():  # type: ignore[no-untyped-def]
        return "admin area"

    @application.get("/_test/oversight")
    @regulator_required
    def oversight():  # type: ignore[no-untyped-def]
        return "oversight area"

    @application.get("/_test/org/<int:organization_id>/finance")
    def org_finance(organization_id: int):  # type: ignore[no-untyped-def]
        require_org_role(organization_id, "owner", "finance")
        return "finance area"

    @application.get("/_test/forbidden")
    def forbidden():  # type: ignore[no-untyped-def]
        abort(403)

    yield application
    from charity.extensions import db

    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def guarded(guarded_app, db_session):  # type: ignore[no-untyped-def]
    return guarded_app.test_client()


@pytest.mark.parametrize(
    "path", ["/_test/admin", "/_test/oversight", "/_test/org/1/finance", "/account/"]
)
def test_anonymous_is_sent_to_log_in_and_back(guarded, path):
    response = guarded.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")
    assert path.replace("/", "%2F") in response.headers["Location"]


def test_after_log_in_the_visitor_comes_back(guarded, db_session):
    user = enrol_two_factor(UserFactory(platform_role="admin"))  # admins need it (issue 15)
    login_url = guarded.get("/_test/admin").headers["Location"]
    response = guarded.post(
        login_url, data={"email": user.email, "password": "correct horse battery"}
    )
    assert response.headers["Location"] == "/_test/admin"
    second_step = guarded.get("/_test/admin").headers["Location"]  # the code first
    assert second_step.startswith("/account/2fa/")
    response = guarded.post(second_step, data={"code": fresh_code(user)})
    assert response.headers["Location"] == "/_test/admin"
    assert guarded.get("/_test/admin").get_data(as_text=True) == "admin area"


@pytest.mark.parametrize(
    ("role", "admin", "oversight"),
    [("donor", 403, 403), ("regulator", 403, 200), ("admin", 200, 200)],
)
def test_platform_roles(guarded, db_session, role, admin, oversight):
    log_in(guarded, UserFactory(platform_role=role))
    assert guarded.get("/_test/admin").status_code == admin
    assert guarded.get("/_test/oversight").status_code == oversight


def test_a_403_is_the_friendly_page(guarded, db_session):
    log_in(guarded, UserFactory())
    response = guarded.get("/_test/admin?lang=en")
    assert response.status_code == 403
    assert "You do not have access to this page" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("finance", 200), ("editor", 403), (None, 403)]
)
def test_organization_roles(guarded, db_session, role, status):
    user = UserFactory()
    org = OrganizationFactory()
    if role:
        MembershipFactory(user=user, organization=org, role=role)
    log_in(guarded, user)
    assert guarded.get(f"/_test/org/{org.id}/finance").status_code == status


def test_a_role_in_one_organization_gives_nothing_in_another(guarded, db_session):
    user = UserFactory()
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    MembershipFactory(user=user, organization=mine, role="owner")
    log_in(guarded, user)
    assert guarded.get(f"/_test/org/{mine.id}/finance").status_code == 200
    assert guarded.get(f"/_test/org/{theirs.id}/finance").status_code == 403


def test_platform_admin_has_no_organization_role_by_default(guarded, db_session):
    log_in(guarded, UserFactory(platform_role="admin"))
    org = OrganizationFactory()
    assert guarded.get(f"/_test/org/{org.id}/finance").status_code == 403
