"""The Azure Function entry: hands every HTTP request to the FastAPI app.

Under the v1 layout (`function.json`) the Functions middleware sends no ASGI lifespan events by
itself, so the entry keeps one middleware per process and awaits its `notify_startup()` once before
the first request: that runs the app's lifespan, which loads the dataset.
"""

import asyncio

import azure.functions as func
from fastapi import FastAPI

from api_app import create_app
from common.serving.runtime import Runtime, process_runtime


class AsgiFunction:
    """One app and one ASGI middleware per process, started once, serving every request."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self._runtime = runtime
        self._app: FastAPI | None = None
        self._middleware: func.AsgiMiddleware | None = None
        self._start_lock = asyncio.Lock()

    @property
    def app(self) -> FastAPI:
        if self._app is None:
            # With no runtime given, share the process runtime (dataset, storage, cache) with
            # the queue-triggered worker function hosted in the same process.
            self._app = create_app(self._runtime or process_runtime())
        return self._app

    async def handle(
        self, req: func.HttpRequest, context: func.Context | None
    ) -> func.HttpResponse:
        middleware = await self._started_middleware()
        return await middleware.handle_async(req, context)

    async def _started_middleware(self) -> func.AsgiMiddleware:
        async with self._start_lock:
            if self._middleware is None:
                middleware = func.AsgiMiddleware(self.app)
                await middleware.notify_startup()
                self._middleware = middleware
        return self._middleware


_function = AsgiFunction()


async def main(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    """Entry point named by function.json."""
    return await _function.handle(req, context)
