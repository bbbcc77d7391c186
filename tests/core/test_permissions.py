"""charity.core.permissions: one module answers who may do what (issue 19 point 4)."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from charity.core.permissions import (
    EMAIL_FIRST,
    NotPermittedError,
    can_manage_org,
    ensure_org_role,
    ensure_platform_role,
    has_platform_role,
)
from charity.services.organizations import NotAllowedError
from tests.support.factories import MembershipFactory, UserFactory


def test_can_manage_org_asks_the_role_there(db_session):
    editor = MembershipFactory(role="editor")
    org_id = editor.organization_id
    assert can_manage_org(editor.user, org_id, ("owner", "editor"))
    assert not can_manage_org(editor.user, org_id, ("owner",))
    assert not can_manage_org(editor.user, org_id + 1, ("owner", "editor"))
    assert not can_manage_org(None, org_id, ("owner", "editor"))
    assert not can_manage_org(AnonymousUserMixin(), org_id, ("editor",))


def test_ensure_org_role_raises_the_given_error(db_session):
    owner = MembershipFactory(role="owner")
    ensure_org_role(owner.user, owner.organization_id, ("owner",))
    with pytest.raises(NotPermittedError):
        ensure_org_role(owner.user, owner.organization_id, ("finance",))
    with pytest.raises(PermissionError):  # what services' callers catch
        ensure_org_role(None, owner.organization_id, ("owner",))
    with pytest.raises(NotAllowedError):
        ensure_org_role(owner.user, owner.organization_id + 1, ("owner",), error=NotAllowedError)


def test_ensure_org_role_can_ask_for_a_confirmed_email(db_session):
    unconfirmed = MembershipFactory(role="owner", user=UserFactory(email_verified_at=None))
    ensure_org_role(unconfirmed.user, unconfirmed.organization_id, ("owner",))
    with pytest.raises(NotAllowedError) as refused:
        ensure_org_role(
            unconfirmed.user,
            unconfirmed.organization_id,
            ("owner",),
            error=NotAllowedError,
            verified_email=True,
        )
    assert refused.value.message is EMAIL_FIRST


def test_platform_roles(db_session):
    admin = UserFactory(platform_role="admin")
    donor = UserFactory()
    assert has_platform_role(admin, ("admin", "regulator"))
    assert not has_platform_role(donor, ("admin", "regulator"))
    assert not has_platform_role(None, ("admin",))
    ensure_platform_role(admin, ("admin",))
    with pytest.raises(NotPermittedError):
        ensure_platform_role(donor, ("admin", "regulator"))
    with pytest.raises(NotAllowedError):
        ensure_platform_role(None, ("regulator",), error=NotAllowedError)
