"""The digest chart: hourly posts by category, and when each claim reached Telegram
versus the live blog. matplotlib is imported here only, with the Agg backend, so the
service and `claimwatch --help` never pay for it and no display is needed."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.digest import Digest, Volume

LEGEND_MAX = 10  # matplotlib's default colour cycle


def render_chart(digest: Digest) -> bytes:
    """A PNG for the analyst chat: two panels sharing the day's local time axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    claims = [c for c in digest.claims if c.first is not None or c.published is not None]
    height = 3.2 + max(1.6, 0.42 * len(claims))
    fig, (hours, timeline) = plt.subplots(
        2,
        1,
        figsize=(11, height),
        sharex=True,
        gridspec_kw={"height_ratios": [3.2, max(1.6, 0.42 * len(claims))]},
        layout="constrained",
    )
    try:
        _hourly(digest.volume, hours)
        _timeline(claims, timeline)
        # Times are plotted as the instants they are and only labelled in local time: on
        # the day clocks go back, the two hours that read 03:00 get a bar each.
        zone = ZoneInfo(digest.period.tz)
        timeline.xaxis.set_major_locator(mdates.AutoDateLocator(tz=zone))
        timeline.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=zone))
        timeline.set_xlim(digest.period.start, digest.period.end)
        timeline.set_xlabel(f"{digest.period.day:%a %-d %b %Y}, local time ({digest.period.tz})")
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=110)
    finally:
        plt.close(fig)
    return out.getvalue()


def category_series(volume: Volume) -> list[tuple[str, dict[datetime, int]]]:
    """Posts per hour for each category, most posts first. Past LEGEND_MAX categories
    the smallest share one series: more would repeat matplotlib's colours and run the
    legend off the chart."""
    named = list(volume.by_category)  # most posts first
    shown = named if len(named) <= LEGEND_MAX else named[: LEGEND_MAX - 1]
    rest = f"{len(named) - len(shown)} other categories"
    series: dict[str, Counter[datetime]] = {name: Counter() for name in shown}
    for row in volume.hourly:
        name = row.category if row.category in series else rest
        series.setdefault(name, Counter())[row.hour] += row.posts
    return [(name, dict(counts)) for name, counts in series.items()]


def _hourly(volume: Volume, ax) -> None:
    series = category_series(volume)
    hours = sorted({row.hour for row in volume.hourly})
    bottom = [0] * len(hours)
    xs = [hour + timedelta(minutes=30) for hour in hours]
    for category, counts in series:
        heights = [counts.get(hour, 0) for hour in hours]
        ax.bar(xs, heights, width=1 / 24 * 0.9, bottom=bottom, label=category)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_title(f"Posts per hour by channel category ({volume.posts} posts)", loc="left")
    ax.set_ylabel("posts")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", alpha=0.3)
    if series:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    else:
        ax.text(0.5, 0.5, "no posts", transform=ax.transAxes, ha="center", color="grey")


def _timeline(claims, ax) -> None:
    ax.set_title(
        "Claims: first Telegram post (● green corroborated, red refuted or walked back,"
        " grey unverified) vs live blog (■)",
        loc="left",
    )
    for row, claim in enumerate(claims):
        telegram = claim.first.date if claim.first else None
        blog = claim.published
        colour = {"corroborated": "tab:green", "refuted": "tab:red"}.get(claim.status, "grey")
        if telegram and blog:
            ax.plot([telegram, blog], [row, row], color=colour, linewidth=2, alpha=0.5)
        if telegram:
            ax.plot(telegram, row, "o", color=colour)
        if blog:
            ax.plot(blog, row, "s", color="black", markersize=5)
        if claim.lead is not None:
            ax.annotate(
                _minutes(claim.lead),
                (max(telegram, blog), row),  # type: ignore[type-var]
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
                fontsize="small",
            )
    ax.set_yticks(range(len(claims)), [_short(c.claim_id) for c in claims], fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    if claims:
        ax.set_ylim(len(claims) - 0.5, -0.5)  # the first claim on top
    else:
        ax.text(0.5, 0.5, "no claims", transform=ax.transAxes, ha="center", color="grey")


def _minutes(lead: timedelta) -> str:
    minutes = round(lead / timedelta(minutes=1))
    sign = "-" if minutes < 0 else ""
    return f"{sign}{abs(minutes) // 60}:{abs(minutes) % 60:02d} h lead"


def _short(text: str, limit: int = 28) -> str:
    """Shortened, and with `$` escaped so matplotlib does not read it as mathtext."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")
