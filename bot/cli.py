"""The `claimwatch` command line: parse arguments, call into the app, pick exit codes.

Heavy imports (Telethon, the embedding model, numpy) happen inside the commands so
`claimwatch --help` stays instant.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

import click

from bot.config import Config, ConfigError, load_config
from bot.sinks import OutputClosed

EXIT_BAD_INPUT = 1
EXIT_CONFIG = 2

FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: readable alerts; json: one alert object a line.",
)
DB = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="SQLite file.")
INPUT_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
CONFIG = click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="Config file."
)


class CLIError(click.ClickException):
    """A clean one-line failure with its own exit status."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"claimwatch: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="claimwatch")
def cli(verbose: int) -> None:
    """Follow Telegram channels, match their posts to live-blog claims, alert analysts."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> None:
    # One BLAS thread: batches are small, and a thread pool per matrix product costs more
    # than it gains on the two cores a service gets. Must precede the numpy import.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    try:
        cli.main(args=argv, prog_name="claimwatch")
    except OutputClosed:
        # The reader of our output left (`| head`): undelivered alerts stay pending in
        # the database; point stdout at /dev/null so the exit flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_BAD_INPUT)


def read_config(path: Path | None, **overrides) -> Config:
    """The validated config (defaults when no file is given), as a CLIError on failure."""
    from bot.config import parse_config

    try:
        config = load_config(path) if path else parse_config({})
    except ConfigError as exc:
        raise CLIError(str(exc), EXIT_CONFIG) from None
    for section, values in overrides.items():
        updated = getattr(config, section).model_copy(update=values)
        config = config.model_copy(update={section: updated})
    return config


def run_async(coro):
    """Run a command body, turning known failures into clean exits."""
    from monitors.export import ExportError
    from storage import StorageError

    try:
        return asyncio.run(coro)
    except ConfigError as exc:
        raise CLIError(str(exc), EXIT_CONFIG) from None
    except (ExportError, StorageError) as exc:
        raise CLIError(str(exc)) from None
    except BrokenPipeError:
        raise
    except OSError as exc:  # an --out folder or a jsonl destination that cannot be written
        raise CLIError(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)) from None


def existing_db(path: Path) -> Path:
    """`path` if a database is there: a command that only reads must not create an empty
    one at a mistyped path and report nothing."""
    if not path.is_file():
        raise CLIError(f"{path}: no database there (--db, or [storage] path in the config)")
    return path


@cli.command("check-config")
@click.argument("file", type=click.Path(path_type=Path))
def check_config(file: Path) -> None:
    """Validate FILE and summarise what it sets up."""
    from bot.summary import describe_config

    click.echo(describe_config(read_config(file), file))


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@CONFIG
@DB
@FORMAT
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a tty).")
def replay(paths, config_path, db, fmt, progress) -> None:
    """Run Telegram Desktop exports (folders or result.json) through the pipeline.

    Without --config nothing is translated (a history replay would flood a free
    translator); with one, its translation backend is used.
    """
    from bot.replay import replay_exports

    overrides = {} if config_path else {"translation": {"backend": "none"}}
    config = read_config(config_path, **overrides)
    run_async(replay_exports(config, list(paths), db=db, fmt=fmt, progress=progress))


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--claims",
    "claim_count",
    default=1000,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Synthetic English claims to match.",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the database here (a new file; default: a temporary one).",
)
def bench(paths, claim_count, db) -> None:
    """Time exports through the full pipeline (translation off) against the floor.

    The last line holds the figures as key=value pairs.
    """
    from bot.bench import run_bench

    if db is not None and db.exists():
        raise CLIError(f"{db}: exists; bench needs a new database")
    config = read_config(None, translation={"backend": "none"})
    run_async(run_bench(config, list(paths), claims=claim_count, db=db, out=sys.stdout))


@cli.command()
@DB
@FORMAT
def demo(db, fmt) -> None:
    """Replay the bundled raid scenario offline and print the alerts analysts would get."""
    from bot.demo import run_demo

    run_async(run_demo(db=db, fmt=fmt))


@cli.command()
@click.option("--claims", "claims_path", required=True, type=INPUT_FILE)
@click.option("--posts", "posts_path", required=True, type=INPUT_FILE)
@click.option("--top", default=5, show_default=True, type=click.IntRange(1, 100))
@CONFIG
def rank(claims_path, posts_path, top, config_path) -> None:
    """Rank claims for each post (JSON lines), with the pipeline's matcher and threshold."""
    from bot.rank import rank_files

    config = read_config(config_path)
    try:
        rank_files(config, claims_path, posts_path, top, sys.stdout)
    except ConfigError as exc:
        raise CLIError(str(exc), EXIT_CONFIG) from None
    except ValueError as exc:
        raise CLIError(str(exc)) from None


@cli.command("detect-lang")
@click.option("--hint", "hints", multiple=True, help="Language hint(s), as a channel would give.")
def detect_lang(hints) -> None:
    """Read text lines on stdin; print one ISO 639-1 code a line ('und' when unsure)."""
    from monitors.language import detect

    out = sys.stdout
    for raw in sys.stdin.buffer:  # bytes: a line that is not UTF-8 is read, not fatal
        out.write(detect(raw.decode("utf-8", "replace").rstrip("\r\n"), hints) + "\n")


@cli.command()
@click.argument("what", type=click.Choice(["posts", "claims", "alerts", "clusters"]))
@click.option("--db", required=True, type=INPUT_FILE)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl")
def export(what, db, fmt) -> None:
    """Write stored posts, claims, alerts or clusters to stdout."""
    from bot.export import export_table

    run_async(export_table(db, what, fmt, sys.stdout))


@cli.command()
@click.option(
    "--config", "config_path", required=True, type=click.Path(path_type=Path), help="Config file."
)
@DB
def run(config_path, db) -> None:
    """Follow the configured channels live until SIGINT/SIGTERM (SIGHUP reloads the config).

    Needs CLAIMWATCH_API_ID and CLAIMWATCH_API_HASH, and a session from `claimwatch login`
    (or CLAIMWATCH_SESSION_STRING).
    """
    from bot.live import run_service

    run_async(run_service(config_path, db=db))


@cli.command()
@CONFIG
@click.option(
    "--string", "as_string", is_flag=True, help="Print a string session instead of a file."
)
def login(config_path, as_string) -> None:
    """Log the user account in (phone, code, two-step password) and save the session."""
    from bot.login import login as do_login

    run_async(do_login(read_config(config_path), as_string=as_string, out=sys.stdout))


@cli.command()
@click.option("--db", required=True, type=INPUT_FILE)
def status(db) -> None:
    """Health of the live service: last post, lag and cursor per channel, errors, queues."""
    from bot.status import show_status

    run_async(show_status(db, sys.stdout))


@cli.command()
@DB
@CONFIG
def retranslate(db, config_path) -> None:
    """Try again every translation given up or waiting, at the service's next retry run
    (after a translator outage longer than its two days of retries, or a new backend)."""

    async def body(store):
        return await store.translation_retries.requeue()

    count = _with_store(db, config_path, body)
    click.echo(f"{count} post(s) queued for translation")


@cli.group()
def liveblog() -> None:
    """Live blogs: the source of most claims."""


@liveblog.command("parse")
@click.argument("source")
def liveblog_parse(source: str) -> None:
    """Print the updates of a live-blog FILE or URL, then the claims found in them."""
    from bot.liveblog_cmd import parse_source

    try:
        parse_source(source, sys.stdout)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


@cli.group()
def claims() -> None:
    """Claims posts are matched against: list, add, close, import."""


def _with_store(db: Path | None, config_path: Path | None, body):
    """Run `body(store)` against the configured (or given) database, which must exist."""
    from storage import Store

    path = existing_db(db or Path(read_config(config_path).storage.path))

    async def go():
        store = await Store.open(path)
        try:
            return await body(store)
        finally:
            await store.close()

    try:
        return run_async(go())
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def _with_app(db: Path | None, config_path: Path | None, body):
    """Run `body(app)`: claims that are added get indexed and retro-matched at once."""
    from bot.app import App

    config = read_config(config_path)

    async def go():
        app = await App.open(config, db_path=db)
        try:
            return await body(app)
        finally:
            await app.close()

    try:
        return run_async(go())
    except ValueError as exc:
        raise CLIError(str(exc)) from None


@claims.command("list")
@DB
@CONFIG
@click.option("--all", "show_all", is_flag=True, help="Closed claims too.")
def claims_list(db, config_path, show_all) -> None:
    """List open claims (id, status, text)."""
    from bot.claims_cmd import describe

    async def body(store):
        return await store.claims.list(None if show_all else "open")

    for claim in _with_store(db, config_path, body):
        click.echo(describe(claim))


@claims.command("add")
@click.argument("text", nargs=-1, required=True)
@DB
@CONFIG
def claims_add(text, db, config_path) -> None:
    """Add a claim in your own words; prints its id."""
    from bot.claims_cmd import add_text

    claim = _with_app(db, config_path, lambda app: add_text(app, " ".join(text)))
    click.echo(claim.id)


@claims.command("close")
@click.argument("claim_id")
@DB
@CONFIG
def claims_close(claim_id, db, config_path) -> None:
    """Stop matching a claim (it stays in the history)."""
    from bot.claims_cmd import set_status

    _with_store(db, config_path, lambda store: set_status(store, claim_id, "closed"))


@claims.command("import")
@click.argument("file", type=INPUT_FILE)
@DB
@CONFIG
def claims_import(file, db, config_path) -> None:
    """Add claims from a JSON-lines FILE ({"id","text","title"?,"source"?,"published"?})."""
    from bot.claims_cmd import import_file

    changed = _with_app(db, config_path, lambda app: import_file(app, file))
    click.echo(f"{len(changed)} claim(s) added or updated")


@cli.command()
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Local day in the digest time zone (default: yesterday).",
)
@DB
@CONFIG
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
    help="html: the Telegram messages, separated by blank lines.",
)
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Write the chart PNG here."
)
@click.option("--send", is_flag=True, help="Deliver to the configured destinations, once a day.")
def digest(day, db, config_path, fmt, out, send) -> None:
    """Preview or send the daily digest of one day."""
    from bot.digest_cmd import digest_command

    config = read_config(config_path)
    day = day.date() if day else None
    db = existing_db(db or Path(config.storage.path))
    run_async(digest_command(config, day=day, db=db, fmt=fmt, out=out, send=send))
