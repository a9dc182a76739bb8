"""Bearer secrets shared by API tokens and sensor gateway tokens: minted once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets


def new_secret(prefix: str) -> str:
    """Return a fresh secret: ``prefix`` (which tells the kind of token apart) and 256 random bits."""
    return prefix + secrets.token_urlsafe(32)


def hash_token(raw: str) -> str:
    """Return the hex SHA-256 of ``raw``, the form in which tokens are stored."""
    return hashlib.sha256(raw.encode()).hexdigest()
