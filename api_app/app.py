"""The FastAPI app factory."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from api_app.errors import register_error_handlers
from api_app.jobs import router as jobs_router
from api_app.middleware import BodySizeLimit, RequestContext
from api_app.routes import router as service_router
from common.core.errors import ErrorBody
from common.core.logs import configure_logging
from common.core.settings import SERVICE_NAME, SERVICE_VERSION, Settings
from common.serving.runtime import Runtime, process_runtime
from common.serving.tasks import Task

ALLOWED_METHODS = ["GET", "POST", "OPTIONS"]


def create_app(runtime: Runtime | None = None) -> FastAPI:
    """Build the app of a runtime (by default this process's, from the environment): routes of
    the service and of every model of the runtime; the data loads at startup."""
    runtime = runtime or process_runtime()
    settings = runtime.settings
    configure_logging(settings.log_level, settings.log_json)
    models = runtime.models

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.start_training_processes()  # they start while the data loads
        runtime.start_warm_ups()  # each dataset version loaded from here on submits its warm-up
        await run_in_threadpool(runtime.datasets.load)
        runtime.start_embedded_worker()
        runtime.start_dataset_watch()
        yield
        runtime.stop_background()

    # Swagger UI at /docs from the pinned fastapi-offline package's own copy of its script and
    # styles (served under /static-offline-docs): the page works with no internet. No ReDoc: its
    # page still loads an image from its vendor's CDN.
    app = FastAPIOffline(
        redoc_url=None,
        title=SERVICE_NAME,
        version=SERVICE_VERSION,
        description="Estimates, with prediction intervals, the missing indicator values of Small "
        "Island Developing States.",
        lifespan=lifespan,
        responses={
            413: {"model": ErrorBody, "description": "Request body too large"},
            422: {"model": ErrorBody, "description": "Invalid input"},
            503: {"model": ErrorBody, "description": "No data loaded, storage down or overloaded"},
        },
        # No badge fetching the public schema validator.
        swagger_ui_parameters={"validatorUrl": None},
    )
    # The runtime alone, on app.state (not in lifespan state: the Functions host does not pass
    # lifespan state on to requests); routes reach its parts through `common.web.dependencies`.
    app.state.runtime = runtime
    # Added innermost first: CORS wraps the body limit, so its 413 answers carry CORS headers.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_origin_regex=settings.cors_origin_regex,
        allow_methods=ALLOWED_METHODS,
        allow_headers=["*"],
        expose_headers=["X-Request-ID", "X-Cache", "Retry-After"],
    )
    app.add_middleware(RequestContext, metrics=runtime.metrics)
    register_error_handlers(app)
    app.include_router(service_router)
    app.include_router(jobs_router)
    for model in models:
        app.include_router(model.router, prefix=model.prefix)
    _document_limits(app, settings, [task for model in models for task in model.tasks])
    return app


def _document_limits(app: FastAPI, settings: Settings, tasks: list[Task]) -> None:
    """The OpenAPI schema (so Swagger UI and /params) shows the caps the settings set on request
    fields, as the tasks enforce them."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = build().get("components", {}).get("schemas", {})
            for task in tasks:
                properties = schemas.get(task.request_model.__name__, {}).get("properties", {})
                for limit in task.limits:
                    properties[limit.field]["maximum"] = limit.maximum(settings)
        assert app.openapi_schema is not None  # build() stored it
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
