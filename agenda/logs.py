"""The one logging setup of the commands: text as before, or JSON lines for log collectors.

``AGENDA_LOG_FORMAT=json`` makes every record one JSON object on stderr (python-json-logger)
with ``time``, ``level``, ``logger`` and ``message`` (and ``exc_info`` for errors); uvicorn's
own loggers, access log included, go the same way.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any, Literal

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def logging_config(log_format: LogFormat, *, level: int) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` mapping for ``log_format`` at ``level`` (root)."""
    if log_format == "json":
        formatter: dict[str, Any] = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    else:
        formatter = {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": logging.getLevelName(level)},
        # uvicorn's loggers keep no handlers of their own: they reach the root's
        "loggers": {
            name: {"handlers": [], "propagate": True, "level": "INFO"}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def setup_logging(log_format: LogFormat, *, service: bool) -> dict[str, Any] | None:
    """Configure logging for a command; return the mapping uvicorn should apply, if any.

    A service (``serve``, ``run``) logs from INFO up. A one-shot command keeps Python's
    default in text (warnings bare on stderr, its own output is the tables) and logs
    warnings and errors in JSON.
    """
    if log_format == "text" and not service:
        return None
    config = logging_config(log_format, level=logging.INFO if service else logging.WARNING)
    logging.config.dictConfig(config)
    return config
