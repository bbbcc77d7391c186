"""Who may do what. Views call these; services re-check what matters (four-eyes etc.)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, make_response, render_template
from flask_login import current_user

from charity.extensions import login_manager
from charity.models import User


def require_login() -> None:
    """Anonymous visitors are sent to the login page (and back afterwards)."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())


def role_in_org(user: Any, organization_id: int) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return user.role_in(organization_id)


def can_manage_org(user: Any, organization_id: int, roles: tuple[str, ...]) -> bool:
    return role_in_org(user, organization_id) in roles


def require_verified_email() -> None:
    """Acting for an organization, approving or moving money needs a confirmed address
    (issue 15 finding 5): a page that says so and offers a new link, with status 403."""
    require_login()
    if current_user.email_verified_at is None:
        abort(make_response(render_template("auth/verify_needed.html"), 403))


def require_org_role(organization_id: int, *roles: str) -> None:
    """Send anonymous visitors to log in; 403 unless the user has one of ``roles`` there
    and a confirmed e-mail address."""
    require_login()
    if role_in_org(current_user, organization_id) not in roles:
        abort(403)
    require_verified_email()


def platform_role_required(*roles: str) -> Callable:
    """Decorator: the current user must have one of the platform roles (admin, regulator)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            require_login()
            user: User = current_user  # type: ignore[assignment]
            if user.platform_role not in roles:
                abort(403)
            require_verified_email()
            return view(*args, **kwargs)

        return wrapped

    return decorator


admin_required = platform_role_required("admin")
regulator_required = platform_role_required("regulator", "admin")
