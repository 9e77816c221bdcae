"""The FastAPI app factory."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from api_app.errors import register_error_handlers
from api_app.middleware import BodySizeLimit
from api_app.routes import router as service_router
from common.datasets import DatasetManager
from common.errors import ErrorBody
from common.settings import SERVICE_NAME, SERVICE_VERSION, Settings, get_settings
from models import discover_models

ALLOWED_METHODS = ["GET", "POST", "OPTIONS"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app: routes of the service and of every model; the data loads at startup."""
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level.upper())
    models = discover_models(settings.model_service)
    datasets = DatasetManager(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(datasets.load)
        yield

    app = FastAPI(
        title=SERVICE_NAME,
        version=SERVICE_VERSION,
        description="Estimates, with prediction intervals, the missing indicator values of Small "
        "Island Developing States.",
        lifespan=lifespan,
        responses={422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    )
    # Kept on app.state (not in lifespan state): the Functions host does not pass lifespan
    # state on to requests.
    app.state.settings = settings
    app.state.datasets = datasets
    app.state.models = models
    # Added first, so it runs inside CORS and its 413 answers carry the CORS headers.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_origin_regex=settings.cors_origin_regex,
        allow_methods=ALLOWED_METHODS,
        allow_headers=["*"],
    )
    register_error_handlers(app)
    app.include_router(service_router)
    for model in models:
        app.include_router(model.router, prefix=model.prefix)
    return app
