"""Live blogs as a claim source: fetch a page, parse its updates, extract claims.

Public API (everything else in the package is internal):

    parse_page(body, *, url, content_type=None, max_bytes=MAX_PAGE_BYTES) -> list[Update]
        Any live-blog page or feed to its updates, page order. Tries a feed (RSS/Atom),
        else JSON-LD LiveBlogPosting, microdata BlogPosting, then the page's main text.
        Input past MAX_PAGE_BYTES (10 MiB) is cut off before parsing. Never fetches.
    extract_claims(update) -> list[ExtractedClaim]
        The checkable sentences of an update, with attribution, hedged and walked_back.
    merge_claims(claims) -> list[ClaimGroup]
        The same claim repeated across updates as one group; ClaimGroup.to_claim() gives
        the shared `monitors.models.Claim` the matcher uses.
    LiveBlogFetcher(client=None, *, timeout, deadline, max_bytes, user_agent)
        .fetch(url, state: FetchState) -> FetchResult   (never raises for I/O errors)
    next_delay(failures, *, base=60, cap=3600) -> float  (poll interval with backoff)

Typical poll step:

    result = await fetcher.fetch(url, state)
    state = result.state                      # persist it
    if result.body is not None:
        updates = parse_page(result.body, url=url, content_type=result.content_type)
        groups = merge_claims(c for u in updates for c in extract_claims(u))
    await asyncio.sleep(next_delay(state.failures))
"""

from monitors.liveblog.claims import extract_claims
from monitors.liveblog.fetch import FetchResult, FetchState, LiveBlogFetcher, next_delay
from monitors.liveblog.merge import merge_claims
from monitors.liveblog.models import ClaimGroup, ExtractedClaim, Update
from monitors.liveblog.parse import MAX_PAGE_BYTES, parse_page

__all__ = [
    "MAX_PAGE_BYTES",
    "ClaimGroup",
    "ExtractedClaim",
    "FetchResult",
    "FetchState",
    "LiveBlogFetcher",
    "Update",
    "extract_claims",
    "merge_claims",
    "next_delay",
    "parse_page",
]
