"""Shared FastAPI dependencies: the database session, the configuration and the options."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from aggregator.config import AppConfig
from aggregator.query import StoreSnapshot
from api.options import PublishOptions


def get_session(request: Request) -> Iterator[Session]:
    """A read session per request (publishers never write)."""
    with Session(request.app.state.engine) as session:
        yield session


def get_snapshot(request: Request) -> Iterator[StoreSnapshot]:
    """The request's one view of the store (its version read at most once)."""
    with Session(request.app.state.engine) as session:
        yield StoreSnapshot(session)


def get_config(request: Request) -> AppConfig:
    """The configuration the app was started with."""
    config: AppConfig = request.app.state.config
    return config


SessionDep = Annotated[Session, Depends(get_session)]
SnapshotDep = Annotated[StoreSnapshot, Depends(get_snapshot)]
ConfigDep = Annotated[AppConfig, Depends(get_config)]


def public_base_url(request: Request) -> str:
    """The site's public address for links in pages, feeds and calendars.

    ``AGENDA_BASE_URL`` when set (behind a proxy or on a public domain), else the address
    this request came in on, so links work wherever the service is started.
    """
    options: PublishOptions = request.app.state.publish
    configured = options.base_url
    return (configured or str(request.base_url)).rstrip("/")
