"""`claimwatch liveblog parse`: what claimwatch reads from one live-blog page or feed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import IO

from monitors.liveblog import (
    FetchState,
    LiveBlogFetcher,
    extract_claims,
    merge_claims,
    parse_page,
)


def parse_source(source: str, out: IO[str]) -> None:
    """Print each update as a JSON line, then each claim (merged across updates)."""
    if source.startswith(("http://", "https://")):
        body, content_type = asyncio.run(_fetch(source))
        updates = parse_page(body, url=source, content_type=content_type)
    else:
        path = Path(source)
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"{source}: cannot read: {exc.strerror}") from None
        updates = parse_page(body, url=path.resolve().as_uri())
    for update in updates:
        out.write(json.dumps({"kind": "update", **update.to_dict()}, ensure_ascii=False) + "\n")
    for group in merge_claims(c for u in updates for c in extract_claims(u)):
        line = {
            "kind": "claim",
            "id": group.id,
            "text": group.text,
            "attributions": list(group.attributions),
            "hedged": group.hedged,
            "walked_back": group.walked_back,
            "published": group.published.isoformat() if group.published else None,
            "sources": [claim.update_id for claim in group.claims],
        }
        out.write(json.dumps(line, ensure_ascii=False) + "\n")


async def _fetch(url: str) -> tuple[bytes, str | None]:
    async with LiveBlogFetcher() as fetcher:
        result = await fetcher.fetch(url, FetchState())
    if result.body is None:
        raise ValueError(f"{url}: {result.error or f'HTTP {result.status}'}")
    return result.body, result.content_type
