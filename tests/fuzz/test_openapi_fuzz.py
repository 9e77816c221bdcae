"""Schemathesis over the app's own OpenAPI schema: every route, generated inputs, bounded.

Checks: no 5xx; responses conform to the schema (status codes, content types, bodies); every
4xx body is the one `ErrorBody` shape.
"""

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api_app import create_app
from common.core.errors import ErrorBody
from common.core.settings import Settings
from common.data.demo_data import write_demo_dataset
from common.serving.runtime import Runtime

# Bounded so the suite stays fast; FUZZ_EXAMPLES raises it for a longer hunt.
EXAMPLES_PER_ROUTE = int(os.environ.get("FUZZ_EXAMPLES", "25"))


@schemathesis.check
def error_shape(ctx, response, case) -> None:
    """Every 4xx/5xx body parses as the one error shape."""
    if response.status_code >= 400:
        ErrorBody.model_validate(json.loads(response.content))


def _fuzzed_app() -> FastAPI:
    # Built at collection: schemathesis needs the schema before fixtures exist.
    folder = Path(tempfile.mkdtemp(prefix="fuzz-dataset-"))
    write_demo_dataset(folder)
    settings = Settings(
        dataset_path=folder, demo_data_fallback=False, sync_timeout_seconds=30, log_level="WARNING"
    )
    app = create_app(Runtime.create(settings))
    app.state.runtime.datasets.load()  # what the lifespan does; the fuzzer's client skips it
    return app


APP = _fuzzed_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _remove_dataset() -> Iterator[None]:
    yield
    shutil.rmtree(APP.state.runtime.settings.dataset_path, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case) -> None:
    # Schema-valid values the data does not hold (a year 0, a dataset "") are rightly 422s: the
    # allowed values come from the dataset, not the schema, so that check is left out.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
