"""Assertions shared by the tests."""

from typing import Any


def assert_invalid(response: Any, field: str) -> dict[str, Any]:
    """The response is a 422 `invalid_parameter` naming `field`; returns its body."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_parameter"
    assert body["field"] == field
    return body
