"""Camera URLs hold passwords: `redact_url` and `redact_text` mask them in anything
logged or shown."""

from __future__ import annotations

import re

from anprd.video.urls import SCHEME_RE

# --------------------------------------------------------------------------- redaction

# To the next whitespace: a password may hold quotes or brackets; over-redacting is safe.
# With a user and password, to the last "@" on the line first: a password may hold spaces.
_URL_IN_TEXT_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^\s:/@]*:[^\n]*@)?\S+")
_SECRET_QUERY_RE = re.compile(
    r"(?i)([?&;](?:password|passwd|pass|pwd|token|access_token|key|apikey|api_key|secret"
    r"|auth|sig|signature)=)[^&#\s]*"
)


def redact_url(url: str) -> str:
    """`url` with its password (and secret-looking query values) replaced by ``***``.

    Passwords with a raw ``@`` or ``/`` in them are common on cameras, so the user part
    runs to the *last* ``@``; a URL whose path holds an ``@`` is over-redacted, which is
    the safe side.
    """
    m = SCHEME_RE.match(url)
    if not m:
        return url
    scheme, rest = m.groups()
    at = rest.rfind("@")
    if at >= 0:
        user, sep, _password = rest[:at].partition(":")
        if sep:
            rest = f"{user}:***@{rest[at + 1:]}"
    rest = _SECRET_QUERY_RE.sub(r"\1***", rest)
    return f"{scheme}://{rest}"


def redact_text(text: str) -> str:
    """`text` with every URL in it passed through `redact_url`."""
    return _URL_IN_TEXT_RE.sub(lambda m: redact_url(m.group(0)), text)


