"""The `agenda` command line: parse, harvest, serve, run, sources, db upgrade."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aggregator.config import AppConfig, ConfigError, load_config
from agenda.settings import Settings
from crawlers.source import SourceConfig

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


def _settings(config: Path | None) -> Settings:
    settings = Settings()
    if config is not None:
        settings.agenda_config = config
    return settings


def _load(settings: Settings) -> AppConfig:
    try:
        return load_config(
            settings.agenda_config, settings.agenda_regions, settings.agenda_taxonomy
        )
    except ConfigError as exc:
        err.print(f"[red]config error:[/red] {exc}", highlight=False)
        raise typer.Exit(Exit.USAGE) from exc


def _now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        err.print(f"[red]usage error:[/red] --now {value!r} is not an ISO 8601 date-time")
        raise typer.Exit(Exit.USAGE) from exc
    if parsed.tzinfo is None:
        from zoneinfo import ZoneInfo

        parsed = parsed.replace(tzinfo=ZoneInfo("Europe/Amsterdam"))
    return parsed


def _window(settings: Settings, now: datetime, horizon: int | None):  # type: ignore[no-untyped-def]
    from crawlers.records import Window

    return Window.around(
        now,
        past_days=settings.harvest_past_days,
        horizon_days=horizon if horizon is not None else settings.harvest_horizon_days,
        max_occurrences=settings.harvest_max_occurrences,
    )


def _fetcher(settings: Settings):  # type: ignore[no-untyped-def]
    from crawlers.fetch import Fetcher

    return Fetcher(
        user_agent=settings.harvest_user_agent,
        timeout=settings.harvest_timeout,
        max_bytes=settings.harvest_max_bytes,
        max_redirects=settings.harvest_max_redirects,
        allow_private=settings.submit_allow_private_feeds,
    )


def _guess_kind(location: str, body: bytes) -> str:
    head = body[:2048].lstrip(b"\xef\xbb\xbf \r\n\t").lower()
    if head.startswith(b"begin:vcalendar"):
        return "ics"
    if b"<rss" in head or b"<rdf:rdf" in head:
        return "rss"
    if b"<feed" in head:
        return "atom"
    if head.startswith((b"{", b"[")):
        return "tribe"
    if b"<html" in head or b"<!doctype html" in head:
        return "jsonld"
    return Path(location).suffix.lstrip(".").lower() or "ics"


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
    """Parse one source through reader and normaliser (no database); print JSON Lines."""
    from aggregator.pipeline import build_stages, run_pipeline
    from aggregator.store import preview_event
    from crawlers.crawl import CrawlOptions, crawl_source
    from crawlers.fetch import FetchError
    from crawlers.records import FeedError
    from crawlers.registry import CRAWL_KINDS, UnsupportedKind, parse_document
    from feeds.event_json import event_to_json

    settings = _settings(config)
    app_config = _load(settings)
    moment = _now(now)
    window = _window(settings, moment, horizon_days)
    try:
        with _fetcher(settings) as fetcher:
            fetched = fetcher.fetch(location)
        source = SourceConfig(
            id="cli",
            name=location,
            kind=kind
            or _guess_kind(  # type: ignore[arg-type]
                location, fetched.body
            ),
            url=location,
            region="landelijk",
        )
        if source.kind in CRAWL_KINDS:  # list pages, detail pages and pagination
            result, _ = crawl_source(
                source, now=moment, window=window, options=CrawlOptions.from_settings(settings)
            )
        else:
            result = parse_document(fetched.body, source, now=moment, window=window)
    except (FetchError, FeedError, UnsupportedKind) as exc:
        err.print(f"[red]{location}:[/red] {exc}", highlight=False)
        raise typer.Exit(Exit.SOURCE_FAILED) from exc
    for problem in result.problems:
        err.print(f"[yellow]warning:[/yellow] {problem}", highlight=False)
    for note in result.warnings:
        err.print(f"note: {note}", highlight=False)
    for processed in run_pipeline(result.events, source, build_stages(app_config)):
        if processed.dropped:
            err.print(f"skipped {processed.draft.raw.uid}: {processed.dropped}", highlight=False)
            continue
        event, record = preview_event(processed.draft, now=moment)
        sys.stdout.write(json.dumps(event_to_json(event, [record], {}), ensure_ascii=False) + "\n")


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from aggregator.db import make_engine, upgrade

    upgrade(settings.database_url)
    return make_engine(settings.database_url)


def _summary(outcomes) -> Table:  # type: ignore[no-untyped-def]
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
        colour = {"success": "green", "unchanged": "cyan", "failed": "red"}[o.outcome]
        table.add_row(
            o.source_id,
            f"[{colour}]{o.outcome}[/{colour}]",
            str(o.seen),
            str(o.new),
            str(o.updated),
            str(o.removed),
            str(o.skipped),
            o.error or "",
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
    from crawlers.crawl import CrawlOptions

    settings = _settings(config)
    app_config = _load(settings)
    known = {s.id for s in app_config.sources}
    for name in source or []:
        if name not in known:
            err.print(
                f"[red]usage error:[/red] unknown source {name!r}; known: "
                f"{', '.join(sorted(known))}"
            )
            raise typer.Exit(Exit.USAGE)
    moment = _now(now)
    engine = _engine(settings)
    selected = [s for s in app_config.sources if not source or s.id in source]
    with Progress(console=err, transient=True) as progress, _fetcher(settings) as fetcher:
        task = progress.add_task("harvesting", total=len(selected))

        def done(outcome) -> None:  # type: ignore[no-untyped-def]
            progress.advance(task)
            if outcome.outcome == "failed":
                err.print(
                    f"[red]{outcome.source_id}: failed:[/red] {outcome.error}", highlight=False
                )
            else:
                err.print(
                    f"{outcome.source_id}: {outcome.outcome} ({outcome.seen} seen, "
                    f"{outcome.new} new, {outcome.updated} updated, {outcome.removed} "
                    f"removed, {outcome.skipped} skipped"
                    + (f", {outcome.problems} unreadable" if outcome.problems else "")
                    + ")",
                    highlight=False,
                )

        outcomes = run_harvest(
            engine=engine,
            config=app_config,
            fetcher=fetcher,
            now=moment,
            window=_window(settings, moment, horizon_days),
            source_ids=source or None,
            on_done=done,
            crawl_options=CrawlOptions.from_settings(settings),
        )
    err.print(_summary(outcomes))
    engine.dispose()
    if any(o.outcome == "failed" for o in outcomes):
        raise typer.Exit(Exit.SOURCE_FAILED)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    config: ConfigOpt = None,
) -> None:
    """Serve the API and pages."""
    import uvicorn

    from api.app import create_app

    settings = _settings(config)
    app_config = _load(settings)
    engine = _engine(settings)
    err.print(f"Serving on http://{host}:{port}/ (API docs: http://{host}:{port}/docs)")
    uvicorn.run(
        create_app(settings=settings, config=app_config, engine=engine),
        host=host,
        port=port,
        log_level="info",
    )


@app.command()
def run(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    config: ConfigOpt = None,
) -> None:
    """The main job: harvest each source at its interval in the background while serving."""
    import uvicorn

    from aggregator.schedule import HarvestScheduler
    from api.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = _settings(config)
    app_config = _load(settings)
    engine = _engine(settings)
    scheduler = HarvestScheduler(engine=engine, config=app_config, settings=settings)
    due = scheduler.harvest_never_harvested()
    if due:
        err.print(f"First harvest done for {len(due)} source(s).")
    scheduler.start()
    err.print(f"Serving on http://{host}:{port}/ (API docs: http://{host}:{port}/docs)")
    try:
        uvicorn.run(
            create_app(settings=settings, config=app_config, engine=engine),
            host=host,
            port=port,
            log_level="info",
        )
    finally:
        scheduler.shutdown()


@app.command()
def sources(config: ConfigOpt = None) -> None:
    """List sources with health: last success, last error, events, next run."""
    from aggregator.health import source_health

    settings = _settings(config)
    app_config = _load(settings)
    engine = _engine(settings)
    rows = source_health(engine=engine, config=app_config)
    table = Table(title="Sources")
    table.add_column("id", no_wrap=True, min_width=max((len(r.id) for r in rows), default=2))
    for column in ("kind", "region", "events", "last success", "next run", "last error"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.id,
            row.kind,
            row.region,
            str(row.events),
            row.last_success or "never",
            row.next_run or "now",
            row.last_error or "",
        )
    out.print(table)


@app.command("eval")
def eval_command(
    labels: Annotated[Path, typer.Argument(help="labels.jsonl of a labelled corpus")],
    sources_file: Annotated[Path, typer.Argument(help="the corpus's sources.yaml")],
    now: NowOpt = "2027-01-05T00:00:00+01:00",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="list the mistakes")] = False,
) -> None:
    """Harvest a labelled corpus into a temporary database and score the aggregator."""
    from aggregator.evaluation import run_eval

    settings = _settings(sources_file)
    app_config = _load(settings)
    if not labels.is_file():
        err.print(f"[red]usage error:[/red] {labels} not found")
        raise typer.Exit(Exit.USAGE)
    with _fetcher(settings) as fetcher:
        report = run_eval(labels_path=labels, config=app_config, now=_now(now), fetcher=fetcher)
    for line in report.lines():
        out.print(line, highlight=False, soft_wrap=True)
    if verbose:
        for line in report.mistakes:
            out.print(f"  {line}", highlight=False, soft_wrap=True)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply database migrations (DATABASE_URL, default a SQLite file here)."""
    from aggregator.db import upgrade

    settings = Settings()
    upgrade(settings.database_url, revision)
    err.print(f"Database at {settings.database_url} is up to date.")


def _add_user(email: str, role: str, region: str | None, trusted: bool) -> None:
    import os

    from aggregator.accounts import AccountError, create_user
    from aggregator.db import session_scope

    settings = Settings()
    if region is not None:
        app_config = _load(settings)
        if region not in app_config.regions:
            err.print(f"[red]usage error:[/red] unknown region {region!r}")
            raise typer.Exit(Exit.USAGE)
    password = os.environ.get("AGENDA_ADMIN_PASSWORD") or os.environ.get("AGENDA_USER_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            err.print(
                "[red]usage error:[/red] no terminal to ask for a password: "
                "set AGENDA_ADMIN_PASSWORD"
            )
            raise typer.Exit(Exit.USAGE)
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = _engine(settings)
    try:
        with session_scope(engine) as session:
            create_user(
                session=session,
                email=email,
                password=password,
                role=role,
                region=region,
                trusted=trusted,
            )
    except AccountError as exc:
        err.print(f"[red]usage error:[/red] {exc}")
        raise typer.Exit(Exit.USAGE) from exc
    finally:
        engine.dispose()
    err.print(f"Created {role} account {email.strip().lower()}.")


@users_app.command("create-admin")
def users_create_admin(
    email: Annotated[str, typer.Argument(help="e-mail address to log in with")],
) -> None:
    """Create an admin (password from AGENDA_ADMIN_PASSWORD, else asked twice)."""
    _add_user(email, "admin", None, True)


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="e-mail address to log in with")],
    role: Annotated[str, typer.Option(help="admin, editor or submitter")] = "editor",
    region: Annotated[str | None, typer.Option(help="region slug (editors)")] = None,
    trusted: Annotated[bool, typer.Option(help="submissions skip the queue")] = False,
) -> None:
    """Create a region editor or a (trusted) submitter account."""
    _add_user(email, role, region, trusted)


if __name__ == "__main__":
    app()
