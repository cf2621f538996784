"""Short evidence strings for an analyst: why did this post match this claim?

Terms are shown as the claim spells them (English), rarest first, so "Bryansk, hostages"
reads better than stems; names also count when they only meet through transliteration.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

MAX_ITEMS = 5


def reasons(
    claim_terms: Mapping[str, str],
    claim_names: Mapping[str, str],
    post_terms: Collection[str],
    post_names: Collection[str],
    idf: Callable[[str], float],
    *,
    cosine: float | None = None,
    cue: str | None = None,
) -> tuple[str, ...]:
    """Evidence lines: shared names, numbers, terms, meaning similarity, denial cue.

    `claim_terms` maps the claim's terms to their surface words (text.surface_forms),
    `claim_names` its name keys to names (translit.name_keys)."""
    shared = sorted((t for t in claim_terms if t in post_terms), key=idf, reverse=True)
    numbers = [claim_terms[t] for t in shared if t[0].isdigit()]
    names = list(dict.fromkeys(n for key, n in claim_names.items() if key in post_names))
    named = {w for name in names for w in name.lower().split()}
    others = [claim_terms[t] for t in shared if not t[0].isdigit() and claim_terms[t] not in named]
    found = []
    for label, items in (("names", names), ("numbers", numbers), ("terms", others)):
        if items:
            found.append(f"{label}: " + ", ".join(items[:MAX_ITEMS]))
    if cosine is not None:
        found.append(f"meaning: {cosine:.2f}")
    if cue:
        found.append(f"denial: {cue}")
    return tuple(found)
