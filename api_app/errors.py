"""Exception handlers: every error leaves the service in the one `ErrorBody` shape."""

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.core.errors import (
    ErrorBody,
    ServiceError,
    Unauthorized,
    field_problems,
    validation_error,
)

logger = logging.getLogger(__name__)

_HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers that turn every failure into an `ErrorBody` response."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


class ErrorResponse(JSONResponse):
    """JSON that always encodes: an error may echo a client's string holding a lone surrogate
    (valid in JSON text as an escape, not encodable as UTF-8), which is then escaped."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_response(
    status: int, body: ErrorBody, headers: dict[str, str] | None = None
) -> JSONResponse:
    return ErrorResponse(body.model_dump(mode="json", exclude_none=True), status, headers=headers)


async def _service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    return error_response(error.status_code, error.body(), error_headers(error))


def error_headers(error: ServiceError) -> dict[str, str]:
    """The headers the facts of an error call for: when to retry, how to authenticate."""
    headers = {}
    if error.retry_after_seconds is not None:
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = "Bearer"
    return headers


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    service_error = validation_error(field_problems(error.errors()))
    return error_response(service_error.status_code, service_error.body())


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400:
        # FastAPI's 400 for a body it cannot decode (not UTF-8): a bad input like malformed JSON.
        body = ErrorBody(detail=f"body: {error.detail}", code="invalid_parameter", field="body")
        return error_response(422, body)
    code = _HTTP_ERROR_CODES.get(error.status_code, "http_error")
    body = ErrorBody(detail=str(error.detail), code=code)
    return error_response(error.status_code, body, getattr(error, "headers", None))


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, ErrorBody(detail="internal error", code="internal_error"))
