"""Merchant secrets encrypted at rest.

An organization's API v3 key and private keys are sealed with Fernet (AES-128-CBC with
HMAC-SHA256, from ``cryptography``) under ``PAYMENT_SECRETS_KEY`` before they reach the
database, and opened only in memory to make a provider call. The setting may list several
keys separated by commas: the first seals, all of them open, so a key is rotated by
putting the new one first and re-saving (``flask payments reseal``) before dropping the
old one. Production refuses to start without it (config.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class VaultError(RuntimeError):
    """The secrets cannot be opened: a missing or wrong PAYMENT_SECRETS_KEY."""


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])
    except ValueError as error:  # not 32 url-safe base64-encoded bytes, or no key at all
        raise VaultError(f"PAYMENT_SECRETS_KEY is not a Fernet key: {error}") from None


def _current() -> MultiFernet:
    return _fernet(current_app.config.get("PAYMENT_SECRETS_KEY") or "")


def seal(secrets: Mapping[str, str]) -> str:
    """Encrypt a mapping of secrets into one token (text)."""
    return _current().encrypt(json.dumps(dict(secrets), sort_keys=True).encode()).decode()


def unseal(token: str) -> dict[str, str]:
    try:
        return json.loads(_current().decrypt(token.encode()))
    except InvalidToken:
        raise VaultError("merchant secrets cannot be opened with PAYMENT_SECRETS_KEY") from None


def reseal(token: str) -> str:
    """The same secrets under the first (newest) key."""
    return _current().rotate(token.encode()).decode()


def new_key() -> str:
    return Fernet.generate_key().decode()


def valid_key(keys: str) -> str | None:
    """None if ``keys`` can seal and open, else why not (for the production checks)."""
    try:
        _fernet(keys)
    except VaultError as error:
        return str(error)
    return None
