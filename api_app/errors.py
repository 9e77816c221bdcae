"""Exception handlers: every error leaves the service in the one `ErrorBody` shape."""

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.errors import ErrorBody, FieldProblem, ServiceError

logger = logging.getLogger(__name__)

# Request parts that prefix pydantic's error locations and mean nothing to a client.
_LOCATION_ROOTS = {"body", "query", "path", "header", "cookie"}
_QUOTED = re.compile(r"'([^']*)'")
_HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


def register_error_handlers(app: FastAPI) -> None:
    """Install the handlers that turn every failure into an `ErrorBody` response."""
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


def error_response(
    status: int, body: ErrorBody, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body.model_dump(mode="json", exclude_none=True), status, headers=headers)


async def _service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    return error_response(error.status_code, error.body(), error.headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = [_field_problem(item) for item in error.errors()]
    first = problems[0] if problems else FieldProblem(field="body", message="invalid request")
    body = ErrorBody(
        detail=f"{first.field}: {first.message}",
        code="invalid_parameter",
        field=first.field,
        allowed=first.allowed,
        errors=problems,
    )
    return error_response(422, body)


def _field_problem(item: dict[str, Any]) -> FieldProblem:
    location = [str(part) for part in item.get("loc", ())]
    if location and location[0] in _LOCATION_ROOTS:
        location = location[1:]
    allowed = None
    expected = (item.get("ctx") or {}).get("expected")
    if item.get("type") in {"enum", "literal_error"} and isinstance(expected, str):
        allowed = _QUOTED.findall(expected)
    return FieldProblem(field=".".join(location) or "body", message=item["msg"], allowed=allowed)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = _HTTP_ERROR_CODES.get(error.status_code, "http_error")
    body = ErrorBody(detail=str(error.detail), code=code)
    return error_response(error.status_code, body, getattr(error, "headers", None))


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, ErrorBody(detail="internal error", code="internal_error"))
