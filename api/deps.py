"""Shared FastAPI dependencies: the database session and the loaded configuration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from agenda.settings import Settings
from aggregator.config import AppConfig


def get_session(request: Request) -> Iterator[Session]:
    """A read session per request (publishers never write)."""
    with Session(request.app.state.engine) as session:
        yield session


def get_config(request: Request) -> AppConfig:
    """The configuration the app was started with."""
    return request.app.state.config


def get_settings(request: Request) -> Settings:
    """The settings the app was started with."""
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session)]
ConfigDep = Annotated[AppConfig, Depends(get_config)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def public_base_url(request: Request) -> str:
    """The site's public address for links in pages, feeds and calendars.

    ``AGENDA_BASE_URL`` when set (behind a proxy or on a public domain), else the address
    this request came in on, so links work wherever the service is started.
    """
    configured = request.app.state.settings.agenda_base_url
    return (configured or str(request.base_url)).rstrip("/")
