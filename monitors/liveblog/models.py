"""Plain records of the live-blog source: updates read from a page and claims taken from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitors.models import Claim


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass(frozen=True, slots=True)
class Update:
    """One entry of a live blog (or the whole text of a plain article).

    `id` is stable across polls: the entry's own id or URL fragment, else a hash of
    url + time + headline. `text` is plain text, one paragraph a line.
    """

    id: str
    published: datetime | None
    headline: str | None
    text: str
    url: str

    def to_dict(self) -> dict[str, str | None]:
        """JSON-ready fields (published as ISO 8601), as `liveblog parse` prints them."""
        return {
            "id": self.id,
            "published": _iso(self.published),
            "headline": self.headline,
            "text": self.text,
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class ExtractedClaim:
    """One checkable sentence of an update, with who said it and how firmly."""

    text: str
    attribution: str | None
    hedged: bool
    walked_back: bool
    update_id: str
    url: str
    published: datetime | None

    def to_dict(self) -> dict[str, str | bool | None]:
        """JSON-ready fields (published as ISO 8601)."""
        return {
            "text": self.text,
            "attribution": self.attribution,
            "hedged": self.hedged,
            "walked_back": self.walked_back,
            "update_id": self.update_id,
            "url": self.url,
            "published": _iso(self.published),
        }


@dataclass(frozen=True, slots=True)
class ClaimGroup:
    """The same claim seen in one or more updates; `claims` are ordered oldest first."""

    id: str
    claims: tuple[ExtractedClaim, ...]

    @property
    def text(self) -> str:
        return self.claims[0].text

    @property
    def attributions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.attribution for c in self.claims if c.attribution))

    @property
    def hedged(self) -> bool:
        return any(c.hedged for c in self.claims)

    @property
    def walked_back(self) -> bool:
        return any(c.walked_back for c in self.claims)

    @property
    def published(self) -> datetime | None:
        return self.claims[0].published

    def to_claim(self) -> Claim:
        """The shared pipeline record the matcher works on."""
        first = self.claims[0]
        return Claim(
            id=self.id,
            text=first.text,
            source=", ".join(self.attributions) or None,
            source_url=first.url,
            published=first.published,
        )
