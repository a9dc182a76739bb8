"""Log formats: readable text (the default) or one JSON object per line (``LOG_FORMAT=json``).

Loaded by the LOGGING setting before the apps are ready: imports no models.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging

# The id of the request being answered in this thread (operations.middleware.RequestLogMiddleware).
current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("kampus_request_id", default=None)

# Attributes of a log record that the JSON line carries when a caller passed them in ``extra``.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")


class RequestIdFilter(logging.Filter):
    """Put the current request's id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, request id and request fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id.get()
        if request_id and request_id != "-":
            entry["request_id"] = request_id
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
