"""What a moderator typed when their login had gone: kept in a signed token, not lost.

A form posted without a valid login comes back as the login page carrying the posted
fields in a signed, timed token (itsdangerous, the session's key); after the login the
form page opens with them filled in, and nothing is saved until it is sent again. The
token is bound to the page it belongs to, and only kept for a same-origin post (so another
site cannot pre-fill a moderator's form).
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData

DRAFT_MAX_AGE = 24 * 3600  # seconds
_SALT = "agenda-form-draft"
_SKIP = ("csrf_token", "draft", "next")


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def seal_draft(secret: str, *, page: str, form: FormData) -> str:
    """A token holding the posted fields (not the CSRF token) for the form at ``page``."""
    fields = [[name, value] for name, value in form.multi_items() if isinstance(value, str)]
    return _serializer(secret).dumps(
        {"page": page, "fields": [f for f in fields if f[0] not in _SKIP]}
    )


def open_draft(secret: str, token: str, *, page: str) -> FormData | None:
    """The fields of a draft token for ``page``; None when forged, stale or for another page."""
    try:
        data: Any = _serializer(secret).loads(token, max_age=DRAFT_MAX_AGE)
    except BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(data, dict) or data.get("page") != page:
        return None
    return FormData([(str(name), str(value)) for name, value in data.get("fields", [])])


def form_page_of(path: str) -> str:
    """The page of the form posted to ``path``: ``/moderation/7/approve`` -> ``/moderation/7``."""
    for action in ("/approve", "/reject"):
        if path.endswith(action):
            return path[: -len(action)]
    return path
