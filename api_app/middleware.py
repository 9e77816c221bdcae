"""ASGI middleware of the service."""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api_app.errors import error_response
from common.errors import ErrorBody


class BodySizeLimit:
    """Answers 413 to a request body over `max_bytes`, whether declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            body = ErrorBody(detail=self._message(), code="payload_too_large")
            await error_response(413, body)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            # A body without Content-Length (chunked) is cut off as soon as it passes the limit;
            # the app's HTTPException handler turns this into the same 413 body.
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, self._message())
            return message

        await self.app(scope, counting_receive, send)

    def _message(self) -> str:
        return f"request body larger than the limit of {self.max_bytes} bytes"
