"""The page's bearer token, read from `http.token_file`."""

from __future__ import annotations

from pathlib import Path

MIN_TOKEN_CHARS = 16


class TokenFileError(ValueError):
    pass


def read_token_file(path: Path) -> str:
    """The file's first line, stripped; TokenFileError naming the problem otherwise."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TokenFileError(f"http.token_file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TokenFileError(f"http.token_file {path}: cannot read it: {e}") from None
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if len(token) < MIN_TOKEN_CHARS:
        raise TokenFileError(f"http.token_file {path}: the token must be at least "
                             f"{MIN_TOKEN_CHARS} characters (it has {len(token)}); "
                             "make one with: openssl rand -hex 24")
    return token
