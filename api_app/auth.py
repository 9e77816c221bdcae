"""Admin credentials: the keys of ADMIN_API_KEYS, the same under every host.

A key comes as `Authorization: Bearer <key>` or `X-API-Key: <key>`. It is compared with every
configured key in constant time (digests of equal length, no early exit), so neither timing nor
the number of keys tells how close a guess was. No key configured: admin routes are refused.
"""

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from common.core.errors import ErrorBody, Forbidden, Unauthorized
from common.web.dependencies import SettingsDep

_bearer = HTTPBearer(auto_error=False, description="An admin key of ADMIN_API_KEYS")
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An admin key of ADMIN_API_KEYS"
)

ADMIN_RESPONSES: dict[int | str, dict] = {
    401: {"model": ErrorBody, "description": "No admin key sent"},
    403: {"model": ErrorBody, "description": "Wrong admin key, or no ADMIN_API_KEYS configured"},
}


def check_admin_key(given: str | None, keys: list[SecretStr]) -> None:
    """Pass when `given` is one of `keys`; else 401 (none given) or 403."""
    if not keys:
        raise Forbidden(
            "admin routes are disabled: set ADMIN_API_KEYS (one or more keys, comma-separated) "
            "and send one as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
        )
    if not given:
        raise Unauthorized(
            "this route needs an admin key: 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
        )
    digest = hashlib.sha256(given.encode()).digest()
    matched = False
    for key in keys:
        expected = hashlib.sha256(key.get_secret_value().encode()).digest()
        matched |= hmac.compare_digest(digest, expected)
    if not matched:
        raise Forbidden("the admin key sent is not valid")


def _given_key(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> str | None:
    return bearer.credentials if bearer is not None else api_key


def require_admin(settings: SettingsDep, given: Annotated[str | None, Depends(_given_key)]) -> None:
    """An admin route: the request must carry one of ADMIN_API_KEYS."""
    check_admin_key(given, settings.admin_api_keys)


def require_metrics_access(
    settings: SettingsDep, given: Annotated[str | None, Depends(_given_key)]
) -> None:
    """/metrics: an admin key, unless METRICS_PUBLIC says it is scraped inside the cluster."""
    if not settings.metrics_public:
        check_admin_key(given, settings.admin_api_keys)


AdminDep = Depends(require_admin)
MetricsAccessDep = Depends(require_metrics_access)
