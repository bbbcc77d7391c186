"""Who may do what: the one permissions module (issue 19 point 4).

- Questions: ``role_in_org``, ``can_manage_org`` (an organization role), ``has_platform_role``.
- Services refuse with ``ensure_org_role`` / ``ensure_platform_role`` (an exception, by
  default ``NotPermittedError``, a ``PermissionError``); they never read request globals.
- Views guard with ``require_org_role`` / ``platform_role_required`` (``admin_required``,
  ``regulator_required``): log in, 403, or confirm the e-mail address first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import abort, make_response, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from charity.extensions import login_manager

if TYPE_CHECKING:
    from charity.models import User


def require_login() -> None:
    """Anonymous visitors are sent to the login page (and back afterwards)."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())


def role_in_org(user: Any, organization_id: int) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return user.role_in(organization_id)


def can_manage_org(user: Any, organization_id: int, roles: Iterable[str]) -> bool:
    """Whether ``user`` (None or anonymous: no) holds one of ``roles`` in the organization."""
    return role_in_org(user, organization_id) in tuple(roles)


def has_platform_role(user: Any, roles: Iterable[str]) -> bool:
    """Whether ``user`` (None or anonymous: no) holds one of the platform ``roles``."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.platform_role in tuple(roles)


class NotPermittedError(PermissionError):
    """A service refuses an actor without the role (the view answers 403)."""

    def __init__(self, message: Any = "the actor may not do this") -> None:
        super().__init__(message)


#: The refusal when the role fits but the e-mail address is not confirmed (issue 15 finding 5).
EMAIL_FIRST = _l("Confirm your email address first.")


def ensure_org_role(
    actor: Any,
    organization_id: int,
    roles: Iterable[str],
    *,
    error: Callable[..., Exception] = NotPermittedError,
    verified_email: bool = False,
) -> None:
    """For services: raise ``error()`` unless ``actor`` holds one of ``roles`` in the
    organization; with ``verified_email``, ``error(EMAIL_FIRST)`` unless the actor's e-mail
    address is confirmed."""
    if not can_manage_org(actor, organization_id, roles):
        raise error()
    if verified_email and actor.email_verified_at is None:
        raise error(EMAIL_FIRST)


def ensure_platform_role(
    actor: Any, roles: Iterable[str], *, error: Callable[..., Exception] = NotPermittedError
) -> None:
    """For services: raise ``error()`` unless ``actor`` holds one of the platform ``roles``."""
    if not has_platform_role(actor, roles):
        raise error()


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
