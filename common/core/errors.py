"""The one error shape of the service and the domain errors that produce it.

Every 4xx/5xx body is an `ErrorBody`: a human message in `detail` (the key FastAPI clients
already read), a machine `code`, and where it applies the offending `field` and its `allowed`
values. Validation errors raised by pydantic are converted to the same shape by the handlers in
`api_app.errors`.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, Field


class FieldProblem(BaseModel):
    """One problem with one input field."""

    field: str
    message: str
    allowed: list[Any] | None = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    detail: str = Field(description="What went wrong, for people.")
    code: str = Field(description="What went wrong, for programs.")
    field: str | None = Field(None, description="The input field at fault, if any.")
    allowed: list[Any] | None = Field(None, description="The values that field accepts.")
    errors: list[FieldProblem] | None = Field(None, description="Every field problem found.")


class ServiceError(Exception):
    """Base of the errors the service reports to clients; subclasses set status and code.

    Facts, not HTTP: `retryable` says whether the same request may succeed later (a job is then
    delivered again), `retry_after_seconds` when to try. The web layer (`api_app.errors`) turns
    them into the status and headers of the response.
    """

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    retryable: ClassVar[bool] = True  # an unexpected failure may pass

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        allowed: Iterable[Any] | None = None,
        retry_after_seconds: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.allowed = list(allowed) if allowed is not None else None
        self.retry_after_seconds = retry_after_seconds
        self.problems: list[FieldProblem] | None = None

    def body(self) -> ErrorBody:
        problems = self.problems
        if problems is None and self.field is not None:
            problems = [FieldProblem(field=self.field, message=self.detail, allowed=self.allowed)]
        return ErrorBody(
            detail=self.detail,
            code=self.code,
            field=self.field,
            allowed=self.allowed,
            errors=problems,
        )


class InvalidParameter(ServiceError):
    """A request field has a value the service cannot use."""

    status_code = 422
    code = "invalid_parameter"
    retryable = False


class NotFound(ServiceError):
    """The thing asked for does not exist."""

    status_code = 404
    code = "not_found"
    retryable = False


class DataUnavailable(ServiceError):
    """The dataset is not loaded (yet, or because it is broken)."""

    status_code = 503
    code = "data_unavailable"


class DatasetInvalid(ServiceError):
    """The dataset files are missing or malformed; the message names the file, line and column
    (file names only: never a server path)."""

    status_code = 422
    code = "dataset_invalid"
    retryable = False


class StorageUnavailable(ServiceError):
    """The job and result storage cannot be reached."""

    status_code = 503
    code = "storage_unavailable"


class Overloaded(ServiceError):
    """Every training slot and waiting place is taken."""

    status_code = 503
    code = "overloaded"


class TooManyRequests(ServiceError):
    """This client already runs MAX_TRAININGS_PER_CLIENT heavy requests."""

    status_code = 429
    code = "too_many_requests"


class TrainingTimeout(ServiceError):
    """A sync training ran past SYNC_TIMEOUT_SECONDS."""

    status_code = 504
    code = "training_timeout"


class TrainingCrashed(ServiceError):
    """The worker process running a training died (a crash, or the kernel's out-of-memory
    killer); it has been replaced, so other requests are unaffected."""

    status_code = 500
    code = "training_crashed"


class ClientGone(ServiceError):
    """The client hung up before its answer was ready (nobody reads this response)."""

    status_code = 499
    code = "client_closed_request"
    retryable = False


class Unauthorized(ServiceError):
    """An admin route was called without credentials."""

    status_code = 401
    code = "unauthorized"
    retryable = False


class Forbidden(ServiceError):
    """The credentials sent are not an admin key, or admin routes are not configured."""

    status_code = 403
    code = "forbidden"
    retryable = False


def invalid_choice(field: str, value: Any, allowed: Iterable[Any]) -> InvalidParameter:
    """The error for a value outside a known list of choices."""
    allowed_list = list(allowed)
    return InvalidParameter(
        f"{field} {value!r} is not available; choose one of the {len(allowed_list)} allowed values",
        field=field,
        allowed=allowed_list,
    )


# Request parts that prefix pydantic's error locations and mean nothing to a client.
_LOCATION_ROOTS = {"body", "query", "path", "header", "cookie"}
_QUOTED = re.compile(r"'([^']*)'")


def field_problems(errors: Iterable[Mapping[str, Any]], prefix: str = "") -> list[FieldProblem]:
    """Pydantic error dicts as field problems; enum errors list their allowed values."""
    return [_field_problem(item, prefix) for item in errors]


def _field_problem(item: Mapping[str, Any], prefix: str) -> FieldProblem:
    location = [str(part) for part in item.get("loc", ())]
    if item.get("type") == "json_invalid":
        location = []  # its location is a character offset, not a field: the body is at fault
    elif location and location[0] in _LOCATION_ROOTS:
        location = location[1:]
    if prefix:
        location = [prefix, *location]
    allowed = None
    expected = (item.get("ctx") or {}).get("expected")
    if item.get("type") in {"enum", "literal_error"} and isinstance(expected, str):
        allowed = _QUOTED.findall(expected)
    return FieldProblem(field=".".join(location) or "body", message=item["msg"], allowed=allowed)


def validation_error(problems: list[FieldProblem]) -> InvalidParameter:
    """One 422 for a list of field problems, led by the first."""
    first = problems[0] if problems else FieldProblem(field="body", message="invalid request")
    error = InvalidParameter(
        f"{first.field}: {first.message}", field=first.field, allowed=first.allowed
    )
    error.problems = problems
    return error
