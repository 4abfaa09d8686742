"""The web app built from the environment, for `agenda serve --workers N` (one per worker).

uvicorn starts each worker process afresh and asks it for the app by import string; the
parent (``agenda serve`` or ``agenda run``) has migrated the database and put a
``--config`` into ``AGENDA_CONFIG`` first.
"""

from __future__ import annotations

from fastapi import FastAPI

from agenda import wiring
from agenda.web import create_app
from aggregator.db import make_engine

FACTORY = "agenda.asgi:app_from_environment"


def app_from_environment() -> FastAPI:
    """The whole site (publisher and forms) on the database of ``DATABASE_URL``."""
    settings = wiring.load_settings()
    config = wiring.load_app_config(settings)
    engine = make_engine(settings.database_url)
    return create_app(
        settings=settings,
        config=config,
        engine=engine,
        pipeline=wiring.pipeline(settings, config),
    )
