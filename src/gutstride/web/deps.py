"""Checks shared by the API and the pages: who is calling, and what they may do with an athlete.

Anything the caller may not see answers 404, exactly as if it did not exist; an action on something the caller can
see but may not do answers 403 (a viewer writing, a coach managing grants); no caller at all answers 401.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import HTTPException, Path, Request

from gutstride.services.accounts import Account
from gutstride.services.sharing import CAN_WRITE, access
from gutstride.store.workspace import Workspace
from gutstride.web.security import account_of

#: A row id in a path: a positive 32-bit integer (anything else is 422, never a database error).
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]

NOT_FOUND = "not found"


def workspace(request: Request) -> Workspace:
    ws: Workspace = request.app.state.ws
    return ws


def today(request: Request) -> date:
    """The day reports are computed for: the ``report_day`` setting, else today (tests may pin ``app.state.today``)."""
    pinned: date | None = getattr(request.app.state, "today", None)
    day = request.app.state.config.report_day
    return pinned or (date.fromisoformat(day) if day else date.today())


def signed_in_account(request: Request) -> Account:
    account = account_of(request)
    if account is None:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
    return account


def need(request: Request, athlete_id: int, write: bool = False, owner: bool = False) -> Account:
    """The caller, if they may see ``athlete_id`` (404 otherwise) and do what is asked (403 otherwise)."""
    account = signed_in_account(request)
    level = access(workspace(request), account, athlete_id)
    if level is None:
        raise HTTPException(404, NOT_FOUND)
    if (owner and level != "owner") or (write and level not in CAN_WRITE):
        raise HTTPException(403, f"your access to this athlete ({level}) does not allow this")
    return account
