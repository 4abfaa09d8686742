"""Assemble the one web app: the read-only publisher with the forms app installed on it.

The composition root is the only place that knows the settings: it turns them into the
publisher's and the forms app's own options objects.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import Engine

from agenda.settings import Settings
from agenda.wiring import mailer
from aggregator.config import AppConfig
from aggregator.pipeline import Pipeline, build_pipeline
from aggregator.submissions import RateLimit
from api.app import create_app as create_publisher
from api.options import PublishOptions
from forms.app import install_forms
from forms.options import FormsOptions


def publish_options(settings: Settings) -> PublishOptions:
    """The publisher's options from the settings."""
    return PublishOptions(
        base_url=settings.agenda_base_url,
        export_version_max_age=settings.export_version_max_age,
        tile_url=settings.web_tile_url,
        tile_attribution=settings.web_tile_attribution,
        open_data_licence=settings.open_data_licence,
        open_data_licence_url=settings.open_data_licence_url,
    )


def forms_options(settings: Settings) -> FormsOptions:
    """The forms app's options from the settings."""
    return FormsOptions(
        secret_key=settings.web_secret_key,
        cookie_secure=settings.web_cookie_secure,
        submit_limit=RateLimit(
            limit=settings.submit_rate_limit,
            window=timedelta(minutes=settings.submit_rate_window_minutes),
        ),
        allow_private_feeds=settings.submit_allow_private_feeds,
        user_agent=settings.harvest_user_agent,
        past_days=settings.harvest_past_days,
        mailer=mailer(settings),
    )


def create_app(
    *, settings: Settings, config: AppConfig, engine: Engine, pipeline: Pipeline | None = None
) -> FastAPI:
    """The whole site as one ASGI app: publisher (API, exports, pages, embed) and forms.

    ``pipeline`` publishes approved submissions: the CLI passes the harvest's own
    pipeline (the default is the default stages, offline).
    """
    app = create_publisher(options=publish_options(settings), config=config, engine=engine)
    if pipeline is None:
        pipeline = build_pipeline(config)
    install_forms(app, options=forms_options(settings), pipeline=pipeline)
    return app
