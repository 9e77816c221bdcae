"""Fixtures of the hostile-input suite: admin keys made per run (the raw HTTP helpers are in
tests/fixtures/servers.py)."""

import secrets

import pytest


@pytest.fixture(scope="session")
def admin_keys() -> tuple[str, str]:
    """Two admin keys (a current and a next one, as during a rotation), made for this run."""
    return secrets.token_urlsafe(24), secrets.token_urlsafe(24)
