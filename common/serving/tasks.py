"""Tasks: the heavy endpoints of models, run the same way by the sync route and the job worker."""

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from common.core.errors import InvalidParameter
from common.core.settings import Settings
from common.data.datasets import IndicatorStore


@dataclass(frozen=True)
class Limit:
    """A numeric request field capped by a setting (the OpenAPI schema shows the cap too)."""

    field: str
    setting: str  # the name of the Settings field holding the maximum

    def maximum(self, settings: Settings) -> int:
        return getattr(settings, self.setting)

    def check(self, request: BaseModel, settings: Settings) -> None:
        value, maximum = getattr(request, self.field), self.maximum(settings)
        if value is not None and value > maximum:
            raise InvalidParameter(
                f"{self.field} must be at most {maximum} (the service's "
                f"{self.setting.upper()} setting), got {value}",
                field=self.field,
                allowed=[1, maximum],
            )


@dataclass(frozen=True)
class Task:
    """A model endpoint whose work is training: limited, cached, and available as an async job."""

    model: str
    endpoint: str
    request_model: type[BaseModel]
    check: Callable[[IndicatorStore, Any], None]
    run: Callable[[IndicatorStore, Any, Settings], BaseModel]
    limits: tuple[Limit, ...] = ()
    # Part of the cache key: raised when the response's shape changes, so that results cached in
    # shared storage by an older release are not served in the old shape.
    result_version: int = 1

    def validate(self, store: IndicatorStore, request: BaseModel, settings: Settings) -> None:
        """Every check of the request: the caps of the settings, then against the data."""
        for limit in self.limits:
            limit.check(request, settings)
        self.check(store, request)

    def compute(self, store: IndicatorStore, request: BaseModel, settings: Settings) -> bytes:
        """Run a request already validated against `store`; the response as JSON bytes (what the
        cache stores). Sync routes validate before they queue for a slot, job workers on taking
        the job."""
        return self.run(store, request, settings).model_dump_json().encode()


@dataclass(frozen=True)
class Warmup:
    """Jobs of a task to submit whenever a process serving HTTP loads a new dataset version, so
    that what they compute (and share) is ready before the first user asks for it."""

    task: Task
    # The requests to submit for a store, in the order they should run (empty: none, e.g. off).
    requests: Callable[[IndicatorStore, Settings], Sequence[BaseModel]]
    # Raises `InvalidSetting` (start-up fails) when the settings it reads are not valid.
    check_settings: Callable[[Settings], None]


def new_job_id() -> str:
    """The id of a new job or batch (they share `GET /jobs/{id}`)."""
    return uuid.uuid4().hex


def is_job_id(text: str) -> bool:
    """Whether `text` has the shape of an id `new_job_id` makes (checked before any lookup)."""
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


def job_id_of(key: str) -> str:
    """The id of the one job a warm-up submits for a cache key: every replica that submits the
    same request for the same data names the same job (`JobService.submit_once`)."""
    return key[:32]


def canonical_request(request: BaseModel) -> dict[str, Any]:
    """The request as plain JSON data: enums by name, every field present."""
    return request.model_dump(mode="json")


def cache_key(dataset_version: str, task: Task, request: BaseModel) -> str:
    """The key of a result: dataset version + model + endpoint + result version + the canonical
    request."""
    document = {
        "dataset_version": dataset_version,
        "model": task.model,
        "endpoint": task.endpoint,
        "result_version": task.result_version,
        "request": canonical_request(request),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
