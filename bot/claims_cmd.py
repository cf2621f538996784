"""`claimwatch claims ...`: analysts' claims, by the same functions the chat commands use."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING

from bot.alert_render import plain_line
from bot.claimfile import MIN_CLAIM_CHARS, read_claims
from monitors.models import Claim
from storage import Store

if TYPE_CHECKING:
    from bot.app import App

_SLUG = re.compile(r"[^a-z0-9]+")


def new_claim_id(text: str) -> str:
    """A short readable id: the first words of the claim plus a hash against clashes."""
    words = _SLUG.sub("-", text.lower()).strip("-")[:32].rstrip("-") or "claim"
    return f"{words}-{hashlib.blake2b(text.encode(), digest_size=3).hexdigest()}"


async def add_text(app: App, text: str, source: str = "analyst") -> Claim:
    """Add a claim; the same words again reopen it if it was closed (the analyst wants it
    matched again), where a live blog's re-poll leaves a closed claim closed."""
    text = " ".join(text.split())
    if len(text) < MIN_CLAIM_CHARS:
        raise ValueError("a claim needs some words")
    claim = Claim(id=new_claim_id(text), text=text, source=source)
    await app.add_claims([claim])
    stored = await app.store.claims.get(claim.id)
    if stored is not None and stored.status == "closed":
        await app.set_claim_status(claim.id, "open")
    return claim


async def import_file(app: App, path: Path) -> list[Claim]:
    return (await app.add_claims(read_claims(path))).changed


async def set_status(store: Store, claim_id: str, status: str) -> None:
    if await store.claims.get(claim_id) is None:
        raise ValueError(f"no claim {claim_id!r}")
    async with store.transaction():
        await store.claims.set_status(claim_id, status)


def describe(claim: Claim) -> str:
    """One tab-separated line a terminal shows as it is, whatever the claim's text holds."""
    source = f" [{plain_line(claim.source)}]" if claim.source else ""
    return f"{plain_line(claim.id)}\t{claim.status}\t{plain_line(claim.text)}{source}"
