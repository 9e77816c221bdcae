"""Tasks: the heavy endpoints of models, run the same way by the sync route and the job worker."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from common.datasets import IndicatorStore
from common.settings import Settings


@dataclass(frozen=True)
class Task:
    """A model endpoint whose work is training: limited, cached, and available as an async job."""

    model: str
    endpoint: str
    request_model: type[BaseModel]
    check: Callable[[IndicatorStore, Any], None]
    run: Callable[[IndicatorStore, Any, Settings], BaseModel]

    def compute(self, store: IndicatorStore, request: BaseModel, settings: Settings) -> bytes:
        """Check and run the request; the response as JSON bytes (what the cache stores)."""
        self.check(store, request)
        return self.run(store, request, settings).model_dump_json().encode()


def canonical_request(request: BaseModel) -> dict[str, Any]:
    """The request as plain JSON data: enums by name, every field present."""
    return request.model_dump(mode="json")


def cache_key(dataset_version: str, task: Task, request: BaseModel) -> str:
    """The key of a result: dataset version + model + endpoint + the canonical request."""
    document = {
        "dataset_version": dataset_version,
        "model": task.model,
        "endpoint": task.endpoint,
        "request": canonical_request(request),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
