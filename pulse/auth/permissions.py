"""Role checks for views. Pure decisions live in pulse.org.permissions; this wraps views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort
from flask_login import current_user, login_required

from pulse.org.models import Role

F = TypeVar("F", bound=Callable[..., Any])


def require_role(*roles: Role | str) -> Callable[[F], F]:
    """Allow signed-in staff with one of `roles`; others get 403, anonymous users the login."""
    allowed = {Role(r) for r in roles}

    def decorator(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        # login_required (untyped) sends anonymous visitors to the login page first.
        return cast(F, login_required(checked))

    return decorator


STAFF = (Role.MANAGER, Role.LEADER, Role.HR)
