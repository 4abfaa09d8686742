"""The `agenda` command line: parse, harvest, serve, run, sources, eval, users, db upgrade.

Each command parses its arguments, builds what it needs through ``agenda.wiring``, calls
one domain function and prints; exit statuses are those of DESIGN.md.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine

from agenda import wiring
from agenda.logs import setup_logging
from agenda.settings import Settings
from aggregator.config import AppConfig, ConfigError
from aggregator.harvest import HarvestOutcome
from aggregator.localtime import LOCAL_TZ
from aggregator.pipeline import Pipeline, UnknownStage

app = typer.Typer(
    help="National calendar of activities for overstappers.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")
users_app = typer.Typer(help="Accounts of admins and region editors.", no_args_is_help=True)
app.add_typer(users_app, name="users")

# Piped or logged output (CI, cron, a service manager) gets room for the tables; a terminal
# uses its own width.
_PIPE_WIDTH = 160
# How long uvicorn's supervisor waits for a web worker's answer to its health check (its
# default is 5 s). A new worker answers only once it has imported `agenda.cli` again (the
# spawned process re-imports the main module), which takes more than 5 s on a loaded
# machine: the supervisor would kill and restart every worker, forever.
WORKER_HEALTHCHECK_SECONDS = 60
err = Console(stderr=True, soft_wrap=True, width=None if sys.stderr.isatty() else _PIPE_WIDTH)
out = Console(width=None if sys.stdout.isatty() else _PIPE_WIDTH)


class Exit(IntEnum):
    """Exit statuses of DESIGN.md."""

    OK = 0
    SOURCE_FAILED = 1
    USAGE = 2


ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", envvar="AGENDA_CONFIG", help="sources.yaml (default: bundled sample)"),
]
NowOpt = Annotated[str | None, typer.Option("--now", help="ISO date-time to use as 'today'")]
HorizonOpt = Annotated[int | None, typer.Option("--horizon-days", help="expand series this far")]
WorkersOpt = Annotated[
    int, typer.Option("--workers", min=1, help="web worker processes (the API is stateless)")
]


def _usage_error(message: str) -> typer.Exit:
    err.print(f"[red]usage error:[/red] {escape(str(message))}", highlight=False)
    return typer.Exit(Exit.USAGE)


def _load(settings: Settings) -> AppConfig:
    try:
        return wiring.load_app_config(settings)
    except ConfigError as exc:
        err.print(f"[red]config error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(Exit.USAGE) from exc


def _pipeline(settings: Settings, config: AppConfig) -> Pipeline:
    try:
        return wiring.pipeline(settings, config)
    except UnknownStage as exc:
        err.print(f"[red]config error:[/red] PIPELINE_STAGES: {escape(str(exc))}", highlight=False)
        raise typer.Exit(Exit.USAGE) from exc


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise _usage_error(f"--now {value!r} is not an ISO 8601 date-time") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    return parsed


@app.command()
def parse(
    location: Annotated[str, typer.Argument(help="path or URL of a calendar")],
    kind: Annotated[
        str | None, typer.Option("--kind", help="ics, rss, atom, jsonld, tribe, selectors")
    ] = None,
    now: NowOpt = None,
    horizon_days: HorizonOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Parse one source through reader and pipeline (no database); print JSON Lines."""
    from agenda.preview import preview_source
    from crawlers.fetch import FetchError
    from crawlers.records import FeedError
    from crawlers.registry import KINDS

    if kind is not None and kind not in KINDS:
        raise _usage_error(f"--kind {kind!r} is not one of {', '.join(KINDS)}")
    settings = wiring.load_settings(config)
    app_config = _load(settings)
    pipeline = _pipeline(settings, app_config)
    moment = _now(now)
    try:
        with wiring.make_fetcher(settings) as fetcher:
            preview = preview_source(
                location,
                kind=kind,
                fetcher=fetcher,
                pipeline=pipeline,
                crawl_options=wiring.crawl_options(settings),
                now=moment,
                window=wiring.harvest_window(settings, moment, horizon_days),
            )
    except (FetchError, FeedError) as exc:
        err.print(f"[red]{escape(location)}:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(Exit.SOURCE_FAILED) from exc
    for problem in preview.problems:
        err.print(f"[yellow]warning:[/yellow] {escape(str(problem))}", highlight=False)
    for note in preview.notes:
        err.print(f"note: {escape(str(note))}", highlight=False)
    for skipped in preview.skipped:
        err.print(f"skipped {escape(str(skipped))}", highlight=False)
    for event in preview.events:
        sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = wiring.open_engine(settings)
    try:
        yield engine
    finally:
        engine.dispose()


# Source text is printed with its markup escaped: "[/x]" in a title must not crash a table.
_COLOURS = {"success": "green", "unchanged": "cyan", "held": "yellow", "failed": "red"}


def _summary(outcomes: list[HarvestOutcome]) -> Table:
    table = Table(title="Harvest summary")
    # source ids stay whole (they are what --source takes); the error column wraps instead
    table.add_column(
        "source", no_wrap=True, min_width=max((len(o.source_id) for o in outcomes), default=6)
    )
    for column in ("outcome", "seen", "new", "updated", "removed", "skipped", "error"):
        table.add_column(
            column,
            justify="right"
            if column in {"seen", "new", "updated", "removed", "skipped"}
            else "left",
        )
    for o in outcomes:
        colour = _COLOURS.get(o.outcome, "default")
        table.add_row(
            escape(o.source_id),
            f"[{colour}]{o.outcome}[/{colour}]",
            str(o.seen),
            str(o.new),
            str(o.updated),
            str(o.removed),
            str(o.skipped),
            escape(o.error or ""),
        )
    return table


@app.command()
def harvest(
    source: Annotated[
        list[str] | None, typer.Option("--source", help="only this source id")
    ] = None,
    now: NowOpt = None,
    horizon_days: HorizonOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Harvest all (or the named) sources once into the database."""
    from rich.progress import Progress

    from aggregator.harvest import harvest as run_harvest

    settings = wiring.load_settings(config)
    setup_logging(settings.agenda_log_format, service=False)
    app_config = _load(settings)
    known = {s.id for s in app_config.sources}
    unknown = [name for name in source or [] if name not in known]
    if unknown:
        raise _usage_error(f"unknown source {unknown[0]!r}; known: {', '.join(sorted(known))}")
    pipeline = _pipeline(settings, app_config)
    moment = _now(now)
    selected = [s for s in app_config.sources if not source or s.id in source]
    _stop_on_sigterm()
    with (
        _engine(settings) as engine,
        Progress(console=err, transient=True) as progress,
        wiring.make_fetcher(settings) as fetcher,
    ):
        task = progress.add_task("harvesting", total=len(selected))
        notify = wiring.health_notifier(settings, app_config, engine)

        def done(outcome: HarvestOutcome) -> None:
            progress.advance(task)
            err.print(_progress_line(outcome), highlight=False)
            notify(outcome)

        outcomes = run_harvest(
            engine=engine,
            config=app_config,
            fetcher=fetcher,
            pipeline=pipeline,
            crawl_options=wiring.crawl_options(settings),
            now=moment,
            window=wiring.harvest_window(settings, moment, horizon_days),
            source_ids=source or None,
            on_done=done,
            process_budget=settings.harvest_process_budget,
            limits=wiring.harvest_limits(settings),
        )
    err.print(_summary(outcomes))
    if any(o.outcome == "failed" for o in outcomes):
        raise typer.Exit(Exit.SOURCE_FAILED)


def _stop_on_sigterm() -> None:
    """SIGTERM raises SystemExit, so the harvest in progress records itself as interrupted
    and its crawl child is stopped (by default SIGTERM ends Python without cleanup)."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def _progress_line(outcome: HarvestOutcome) -> str:
    if outcome.outcome == "failed":
        return f"[red]{escape(outcome.source_id)}: failed:[/red] {escape(outcome.error or '')}"
    if outcome.outcome == "held":
        return f"[yellow]{escape(outcome.source_id)}:[/yellow] {escape(outcome.error or '')}"
    return (
        f"{escape(outcome.source_id)}: {outcome.outcome} ({outcome.seen} seen, "
        f"{outcome.new} new, {outcome.updated} updated, {outcome.removed} "
        f"removed, {outcome.skipped} skipped"
        + (f", {outcome.problems} unreadable" if outcome.problems else "")
        + ")"
    )


def _serve(app_to_serve: Any, host: str, port: int, settings: Settings, workers: int = 1) -> None:
    """Serve in this process, or with ``workers`` > 1 in that many worker processes (each
    builds the app from the environment: ``agenda.asgi``)."""
    import uvicorn

    err.print(f"Serving on http://{host}:{port}/ (API docs: http://{host}:{port}/docs)")
    log_config = setup_logging(settings.agenda_log_format, service=True)
    if workers > 1:
        if settings.web_secret_key is None:
            # each worker would draw its own random key: a session made by one would be
            # refused by the others
            os.environ["WEB_SECRET_KEY"] = secrets.token_urlsafe(32)
        os.environ["AGENDA_CONFIG"] = str(settings.agenda_config)
        from agenda.asgi import FACTORY

        uvicorn.run(
            FACTORY,
            factory=True,
            workers=workers,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            host=host,
            port=port,
            log_level="info",
            log_config=log_config,
            **proxy_options(settings),
        )
        return
    uvicorn.run(
        app_to_serve,
        host=host,
        port=port,
        log_level="info",
        log_config=log_config,
        **proxy_options(settings),
    )


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy options: X-Forwarded-For is believed only from AGENDA_TRUSTED_PROXIES.

    uvicorn by default trusts those headers from 127.0.0.1, so behind a local proxy (or
    from any local process) a client could choose the address that rate limits count.
    """
    trusted = settings.agenda_trusted_proxies.strip()
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: WorkersOpt = 1,
    config: ConfigOpt = None,
) -> None:
    """Serve the API and pages (no harvesting: `agenda run` schedules)."""
    from agenda.web import create_app

    settings = wiring.load_settings(config)
    app_config = _load(settings)
    pipeline = _pipeline(settings, app_config)
    with _engine(settings) as engine:
        _serve(
            create_app(settings=settings, config=app_config, engine=engine, pipeline=pipeline),
            host,
            port,
            settings,
            workers,
        )


@app.command()
def run(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: WorkersOpt = 1,
    config: ConfigOpt = None,
) -> None:
    """The main job: harvest each source at its interval in the background while serving.

    Several of these may run on one PostgreSQL database: one schedules at a time, the
    others serve and take over when it stops.
    """
    from agenda.web import create_app
    from aggregator.schedule import HarvestScheduler

    settings = wiring.load_settings(config)
    setup_logging(settings.agenda_log_format, service=True)  # before the first harvest
    app_config = _load(settings)
    pipeline = _pipeline(settings, app_config)
    with _engine(settings) as engine:
        scheduler = HarvestScheduler(
            engine=engine,
            config=app_config,
            pipeline=pipeline,
            crawl_options=wiring.crawl_options(settings),
            make_fetcher=lambda: wiring.make_fetcher(settings),
            make_window=lambda now: wiring.harvest_window(settings, now),
            process_budget=settings.harvest_process_budget,
            on_outcome=wiring.health_notifier(settings, app_config, engine),
            policy=wiring.schedule_policy(settings),
            concurrency=settings.harvest_concurrency,
            tick=settings.scheduler_tick,
            upkeep=wiring.websub_upkeep(settings, engine),
            limits=wiring.harvest_limits(settings),
        )
        _stop_on_sigterm()  # uvicorn takes SIGTERM over while it serves
        due = scheduler.harvest_never_harvested()
        if due:
            err.print(f"First harvest done for {len(due)} source(s).")
        scheduler.start()
        try:
            _serve(
                create_app(settings=settings, config=app_config, engine=engine, pipeline=pipeline),
                host,
                port,
                settings,
                workers,
            )
        finally:
            grace = settings.harvest_shutdown_grace
            if not scheduler.shutdown(grace=grace):
                err.print(
                    f"A harvest was still running after {grace:g} s (HARVEST_SHUTDOWN_GRACE):"
                    " stopped; its run is closed as interrupted at the next start."
                )
                os._exit(Exit.SOURCE_FAILED)


@app.command("mcp")
def mcp_command(
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="public address for links in answers (default: AGENDA_BASE_URL, else "
            "http://127.0.0.1:8000)",
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the calendar to an AI assistant over MCP on stdin/stdout (read-only tools)."""
    from api.assistant import FALLBACK_BASE_URL, build_assistant

    settings = wiring.load_settings(config)
    app_config = _load(settings)
    with _engine(settings) as engine:
        server = build_assistant(
            config=app_config,
            engine=engine,
            base_url=base_url or settings.agenda_base_url or FALLBACK_BASE_URL,
        )
        server.run("stdio")


@app.command("ping-token")
def ping_token(
    source_id: Annotated[str, typer.Argument(help="the source's id in sources.yaml")],
    config: ConfigOpt = None,
) -> None:
    """Make (or replace) a source's ping token and print it once; only its digest is kept."""
    from aggregator.db import session_scope
    from aggregator.push import issue_token
    from aggregator.store import sync_sources

    settings = wiring.load_settings(config)
    app_config = _load(settings)
    known = {s.id for s in app_config.sources}
    if source_id not in known:
        raise _usage_error(f"unknown source {source_id!r}; known: {', '.join(sorted(known))}")
    with _engine(settings) as engine, session_scope(engine) as session:
        sync_sources(session=session, sources=app_config.sources)
        token = issue_token(session=session, source_id=source_id, now=datetime.now(UTC))
    sys.stdout.write(token + "\n")
    err.print(
        f"Ping token for {escape(source_id)} (shown once; a new one replaces it):"
        f" POST /api/sources/{escape(source_id)}/ping with 'Authorization: Bearer TOKEN'.",
        highlight=False,
    )


@app.command()
def sources(config: ConfigOpt = None) -> None:
    """List sources with health: last success, last error, events, next run."""
    from aggregator.health import source_health

    settings = wiring.load_settings(config)
    app_config = _load(settings)
    with _engine(settings) as engine:
        rows = source_health(engine=engine, config=app_config)
    table = Table(title="Sources")
    table.add_column("id", no_wrap=True, min_width=max((len(r.id) for r in rows), default=2))
    for column in ("kind", "region", "state", "events", "last success", "next run", "last error"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            *(
                escape(str(value))
                for value in (
                    row.id,
                    row.kind,
                    row.region,
                    row.state,
                    row.events,
                    row.last_success or "never",
                    row.next_run or "now",
                    row.last_error or "",
                )
            )
        )
    out.print(table)


@app.command("eval")
def eval_command(
    labels: Annotated[Path, typer.Argument(help="labels.jsonl of a labelled corpus")],
    sources_file: Annotated[
        Path | None, typer.Argument(help="the corpus's sources.yaml (default: --config)")
    ] = None,
    now: NowOpt = "2027-01-05T00:00:00+01:00",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="list the mistakes")] = False,
    config: ConfigOpt = None,
) -> None:
    """Harvest a labelled corpus into a temporary database and score the aggregator."""
    from aggregator.evaluation import run_eval

    if sources_file is not None and config is not None and sources_file != config:
        raise _usage_error(f"two sources files: {sources_file} and --config {config}")
    settings = wiring.load_settings(sources_file or config)
    app_config = _load(settings)
    if not labels.is_file():
        raise _usage_error(f"{labels} not found")
    pipeline = _pipeline(settings, app_config)
    with wiring.make_fetcher(settings) as fetcher:
        report = run_eval(
            labels_path=labels,
            config=app_config,
            now=_now(now),
            fetcher=fetcher,
            pipeline=pipeline,
            crawl_options=wiring.crawl_options(settings),
        )
    for line in report.lines():
        out.print(escape(line), highlight=False, soft_wrap=True)
    if verbose:
        for line in report.mistakes:
            out.print(f"  {escape(line)}", highlight=False, soft_wrap=True)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument()] = "head", config: ConfigOpt = None
) -> None:
    """Apply database migrations (DATABASE_URL, default a SQLite file here)."""
    from aggregator.db import upgrade

    settings = wiring.load_settings(config)
    upgrade(settings.database_url, revision)
    err.print(f"Database at {settings.database_url} is up to date.")


def _add_user(
    email: str, role: str, region: str | None, trusted: bool, config: Path | None
) -> None:
    from aggregator.accounts import AccountError, create_account

    settings = wiring.load_settings(config)
    # the configuration is read only to check a region (an admin needs none)
    regions: Collection[str] = (
        [r.slug for r in _load(settings).regions] if region is not None else ()
    )
    password = os.environ.get("AGENDA_ADMIN_PASSWORD") or os.environ.get("AGENDA_USER_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise _usage_error("no terminal to ask for a password: set AGENDA_ADMIN_PASSWORD")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with _engine(settings) as engine:
            create_account(
                engine=engine,
                email=email,
                password=password,
                role=role,
                region=region,
                trusted=trusted,
                regions=regions,
            )
    except AccountError as exc:
        raise _usage_error(str(exc)) from exc
    err.print(f"Created {role} account {escape(email.strip().lower())}.")


@users_app.command("create-admin")
def users_create_admin(
    email: Annotated[str, typer.Argument(help="e-mail address to log in with")],
    config: ConfigOpt = None,
) -> None:
    """Create an admin (password from AGENDA_ADMIN_PASSWORD, else asked twice)."""
    _add_user(email, "admin", None, True, config)


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="e-mail address to log in with")],
    role: Annotated[str, typer.Option(help="admin, editor or submitter")] = "editor",
    region: Annotated[str | None, typer.Option(help="region slug (editors)")] = None,
    trusted: Annotated[bool, typer.Option(help="submissions skip the queue")] = False,
    config: ConfigOpt = None,
) -> None:
    """Create a region editor or a (trusted) submitter account."""
    _add_user(email, role, region, trusted, config)


if __name__ == "__main__":
    app()
