"""Structured logging: one JSON object per line, carrying the request id and job id in context."""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
job_id_var: ContextVar[str | None] = ContextVar("job_id", default=None)


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON with time, level, logger, message, request and job ids."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, variable in (("request_id", request_id_var), ("job_id", job_id_var)):
            value = variable.get()
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(level: str, as_json: bool) -> None:
    """Set the root logger's level and format (once per process; later calls only re-level)."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if not any(getattr(handler, "_sids", False) for handler in root.handlers):
        handler: logging.Handler = logging.StreamHandler()
        handler._sids = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    for handler in root.handlers:
        if getattr(handler, "_sids", False):
            handler.setFormatter(
                JsonFormatter() if as_json else logging.Formatter(logging.BASIC_FORMAT)
            )
