"""The analyst chat's commands, free of Telegram: text in, Telegram HTML pieces out.

`bot/chat.py` decides who may run them and carries the replies; the functions behind
them are the ones the CLI uses (claims, status, digest), so chat and terminal agree.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import App
from bot.claims_cmd import add_text
from bot.config import bare_username
from bot.digest import build_digest
from bot.digest_render import render_html
from bot.status import show_status
from bot.telegram_html import bold, escape, link, one_line, shorten, split_message
from monitors.models import message_link, parse_id
from storage.alerts import channel_name
from storage.dates import now_db

DEFAULT_MUTE_HOURS = 24.0
MAX_MUTE_HOURS = 24.0 * 30
SEARCH_RESULTS = 10
CLAIM_TEXT_CHARS = 160
SNIPPET_CHARS = 200
QUOTE_CHARS = 60  # what a usage error quotes of an argument it could not read

HELP = """<b>claimwatch commands</b>
/claims: open claims
/claim TEXT: add a claim (the archive is searched for it at once)
/close ID: close a claim
/mute CHANNEL [HOURS]: hold a channel's alerts for the digest (24 h by default)
/unmute CHANNEL: alert on it again
/status: channels, lag and errors
/search WORDS: the archive, newest matches first, with links
/digest: today's digest so far
/help: this list"""


class UsageError(Exception):
    """A command used wrongly; the message is shown to the analyst as it is."""


class Commands:
    def __init__(self, app: App) -> None:
        self._app = app
        self._table: dict[str, Callable[[str, str], Awaitable[str | list[str]]]] = {
            "help": self._help,
            "start": self._help,
            "claims": self._claims,
            "claim": self._claim,
            "close": self._close,
            "mute": self._mute,
            "unmute": self._unmute,
            "status": self._status,
            "search": self._search,
            "digest": self._digest,
        }

    def knows(self, text: str, bot_username: str | None = None) -> bool:
        """Whether `text` is one of our commands: "/mute@other_bot" is another bot's
        (a group may have several), so it counts only when we know our username."""
        name, addressed, _ = _split(text)
        mine = not addressed or bot_username is None or addressed == bot_username.lower()
        return mine and name in self._table

    async def run(self, text: str, by: str) -> list[str]:
        """The reply to one command line from `by` (a name for the history), as pieces."""
        name, _, args = _split(text)
        handler = self._table.get(name)
        if handler is None:
            return [f"Unknown command /{escape(name)}. Send /help for the list."]
        try:
            reply = await handler(args, by)
        except UsageError as exc:
            return [escape(str(exc))]
        return reply if isinstance(reply, list) else split_message(reply)

    async def _help(self, args: str, by: str) -> str:
        return HELP

    async def _claims(self, args: str, by: str) -> str:
        claims = await self._app.store.claims.list("open")
        if not claims:
            return "No open claims. Add one with /claim TEXT."
        lines = [bold(f"{len(claims)} open claim(s)")]
        for claim in claims:
            source = f" ({escape(one_line(claim.source))})" if claim.source else ""
            text = escape(shorten(one_line(claim.text), CLAIM_TEXT_CHARS))
            lines.append(f"<code>{escape(claim.id)}</code> {text}{source}")
        return "\n".join(lines)

    async def _claim(self, args: str, by: str) -> str:
        text = " ".join(args.split())
        if len(text) < 10:
            raise UsageError("Usage: /claim TEXT (one checkable sentence)")
        claim = await add_text(self._app, text, source=f"analyst {by}")
        return f"Added claim <code>{escape(claim.id)}</code>: {escape(text)}"

    async def _close(self, args: str, by: str) -> str:
        claim_id = args.strip()
        if not claim_id:
            raise UsageError("Usage: /close ID (see /claims)")
        if not await self._app.set_claim_status(claim_id, "closed"):
            raise UsageError(f"No claim {_quoted(claim_id)}. See /claims.")
        return f"Closed claim <code>{escape(claim_id)}</code>."

    async def _mute(self, args: str, by: str) -> str:
        words = args.split()
        if not 1 <= len(words) <= 2:
            raise UsageError("Usage: /mute CHANNEL [HOURS]")
        hours = _hours(words[1]) if len(words) == 2 else DEFAULT_MUTE_HOURS
        channel_id, name = await self._channel(words[0])
        until = datetime.now(UTC) + timedelta(hours=hours)
        async with self._app.store.transaction():
            await self._app.store.mutes.mute(channel_id, until, by, now_db())
        return f"Muted {escape(name)} for {hours:g} h: its alerts wait for the digest."

    async def _unmute(self, args: str, by: str) -> str:
        if len(args.split()) != 1:
            raise UsageError("Usage: /unmute CHANNEL")
        channel_id, name = await self._channel(args.strip())
        async with self._app.store.transaction():
            was_muted = await self._app.store.mutes.unmute(channel_id)
        return f"Unmuted {escape(name)}." if was_muted else f"{escape(name)} was not muted."

    async def _status(self, args: str, by: str) -> list[str]:
        out = io.StringIO()
        await show_status(Path(self._app.store.db.path), out)
        return split_message(f"<pre>{escape(out.getvalue())}</pre>")

    async def _search(self, args: str, by: str) -> str:
        if not args.strip():
            raise UsageError("Usage: /search WORDS")
        posts = await self._app.store.posts.search(args, SEARCH_RESULTS)
        if not posts:
            return f"Nothing in the archive for {escape(one_line(args))}."
        lines = [bold(f"{len(posts)} post(s) for ") + escape(one_line(args))]
        for post in posts:
            where = link(
                f"{channel_name(post.channel_id, post.channel_username, post.channel_title)}"
                f" {post.date:%Y-%m-%d %H:%M}",
                message_link(post.channel_id, post.channel_username, post.message_id),
            )
            snippet = escape(shorten(one_line(post.translation or post.text), SNIPPET_CHARS))
            lines.append(f"• {where}: {snippet}")
        return "\n".join(lines)

    async def _digest(self, args: str, by: str) -> list[str]:
        tz = self._app.config.digest.timezone
        today = datetime.now(ZoneInfo(tz)).date()
        config = self._app.config
        return render_html(await build_digest(self._app.store, today, tz, config.channels))

    async def _channel(self, name: str) -> tuple[int, str]:
        """A channel by @username, t.me link or numeric id, as stored or configured."""
        key = bare_username(name)
        store = self._app.store
        if key.isdigit():
            number = parse_id(key)
            row = await store.channels.get(number) if number is not None else None
        else:
            row = await store.channels.get_by_username(key)
        if row is None:
            raise UsageError(f"No channel {_quoted(name)} in the archive.")
        return row.id, channel_name(row.id, row.username, row.title)


def _split(text: str) -> tuple[str, str, str]:
    """("mute", "claimwatch_bot", "@chan 6") from "/mute@claimwatch_bot @chan 6" (or
    "/mute\n@chan 6", addressed to no bot in particular: "")."""
    head, *args = text.split(maxsplit=1)
    name, _, addressed = head.removeprefix("/").partition("@")
    return name.lower(), addressed.lower(), args[0] if args else ""


def _quoted(argument: str) -> str:
    """An argument in a usage error: short, so the reply stays one message whatever was
    sent (an argument of 4,000 characters had made a reply Telegram refuses)."""
    return repr(shorten(argument, QUOTE_CHARS))


def _hours(raw: str) -> float:
    try:
        hours = float(raw)
    except ValueError:
        raise UsageError(f"{_quoted(raw)} is not a number of hours") from None
    if not 0 < hours <= MAX_MUTE_HOURS:
        raise UsageError(f"hours must be between 0 and {MAX_MUTE_HOURS:g}")
    return hours
