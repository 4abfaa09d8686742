"""App factories the benchmark starts under uvicorn: the real API, and a static-file baseline."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from agenda.settings import Settings
from agenda.web import create_app
from aggregator.config import load_config
from aggregator.db import make_engine
from config import bundled


def api() -> FastAPI:
    """The real application on BENCH_DATABASE_URL with the bundled configuration."""
    settings = Settings(DATABASE_URL=os.environ["BENCH_DATABASE_URL"])
    config = load_config(bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml"))
    return create_app(settings=settings, config=config, engine=make_engine(settings.database_url))


def static() -> FastAPI:
    """A plain static-file server for BENCH_STATIC_DIR (Starlette's StaticFiles, with ETags)."""
    app = FastAPI()
    app.mount("/", StaticFiles(directory=Path(os.environ["BENCH_STATIC_DIR"])), name="static")
    return app
