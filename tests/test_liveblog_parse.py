"""parse_page on the pages in tests/pages (one per format) and on hostile input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitors.liveblog import parse_page
from monitors.liveblog.junk import is_furniture_text
from monitors.liveblog.models import Update

PAGES = Path(__file__).parent / "pages"
BLOG_URL = "https://news.example/live/bryansk"
FURNITURE = (
    "Leave a Reply",
    "email address",
    "Required fields",
    "casino",
    "free spins",
    "Share",
    "cookies",
    "newsletter",
    "Related",
    "Most read",
    "rights reserved",
)


def parse(name: str, url: str = BLOG_URL, content_type: str | None = None) -> list[Update]:
    return parse_page((PAGES / name).read_bytes(), url=url, content_type=content_type)


def liveblog_page(entries: str) -> str:
    """A page whose only content is a JSON-LD LiveBlogPosting with `entries` (JSON text)."""
    return (
        '<script type="application/ld+json">{"@type": "LiveBlogPosting", '
        f'"liveBlogUpdate": {entries}}}</script>'
    )


def assert_clean(updates: list[Update]) -> None:
    for update in updates:
        blob = f"{update.headline or ''}\n{update.text}"
        assert not [junk for junk in FURNITURE if junk.lower() in blob.lower()], blob
        assert "&" not in blob.replace(" & ", ""), "HTML entity left in"
        assert "<" not in blob
        assert all(line == " ".join(line.split()) for line in update.text.splitlines())
        assert update.published is None or update.published.tzinfo is not None


def test_jsonld_liveblog_updates_in_page_order():
    updates = parse("bryansk_liveblog.html")
    assert [u.id for u in updates] == ["update-1", "update-2", "update-3", "update-4"]
    assert updates[1].published == datetime(2023, 3, 2, 9, 15, tzinfo=UTC)
    assert updates[1].url == "https://news.example/live/bryansk#update-2"
    assert updates[3].headline == 'Kremlin vows to "liquidate" attackers'
    assert updates[1].text.splitlines()[0].startswith("The governor of Bryansk said saboteurs")
    assert "“They will be found and liquidated,” the Kremlin spokesman" in updates[3].text
    assert "Ukraine. Mr. Bogomaz" not in updates[2].text  # &nbsp; folded, not glued
    assert "the governor of Bryansk said. Mr. Bogomaz" in updates[2].text
    assert_clean(updates)


def test_ids_are_stable_across_parses():
    first, again = parse("broken_jsonld.html"), parse("broken_jsonld.html")
    assert [u.id for u in first] == [u.id for u in again]


def test_broken_jsonld_is_repaired():
    (update,) = parse("broken_jsonld.html")
    assert update.headline == "Shelling overnight"
    assert update.published == datetime(2023, 3, 3, 6, 30, tzinfo=UTC) + timedelta(hours=-2)
    assert update.text.splitlines() == [
        "The regional governor said three people were wounded when shells hit a residential"
        " block in Kharkiv overnight.",
        "Emergency crews put out a fire on the fifth floor, the governor added.",
    ]
    assert len(update.id) == 16  # no own id: a content hash


def test_microdata_blog_postings():
    updates = parse("microdata.html")
    assert [u.id for u in updates] == ["post-202", "post-201"]
    assert updates[0].headline == "Drones shot down over the region"
    assert updates[0].text.startswith("Ukraine’s air force said it shot down 11 of 15 drones")
    assert updates[1].published == datetime(2023, 3, 4, 12, 5, tzinfo=UTC)
    assert "Desk" not in updates[0].text
    assert_clean(updates)


def test_rss_feed():
    updates = parse("feed.rss", url="https://news.example/feed", content_type="application/rss+xml")
    assert [u.id for u in updates] == ["entry-77", "entry-76"]
    assert updates[0].url == "https://news.example/live/ukraine#entry-77"
    assert updates[0].text == (
        "The mayor of Odesa said two explosions were heard in the port area before dawn."
    )
    assert updates[1].published == datetime(2023, 3, 3, 1, 0, tzinfo=UTC)
    assert "would resume next week & both sides" in updates[1].text
    assert_clean(updates)


def test_atom_feed_is_sniffed_without_content_type():
    (update,) = parse("feed.atom", url="https://news.example/feed.atom")
    assert update.id == "tag:news.example,2023:live-ukraine:entry-301"
    assert update.text == (
        "Ukraine’s military said its forces repelled 90 attacks around Bakhmut in the past day."
    )
    assert update.published == datetime(2023, 3, 5, 9, 30, tzinfo=UTC)
    assert "alert" not in update.text


def test_plain_article_main_text_only():
    (update,) = parse("article.html", url="https://news.example/analysis/bryansk")
    assert update.headline == "What the Bryansk raid means"
    assert update.published == datetime(2023, 3, 3, 12, 0, tzinfo=UTC)
    lines = update.text.splitlines()
    assert len(lines) == 3
    assert lines[2] == (
        "A nationalist commentator wrote on Telegram that the “last red lines” had been erased."
    )
    assert "Border villages" not in update.text and "Home" not in update.text
    assert_clean([update])


def test_spam_and_comment_form_give_no_updates():
    assert parse("spam_only.html") == []


def test_junk_appended_to_jsonld_body_is_dropped():
    body = (
        "<p>Officials said 12 drones were shot down over Kyiv overnight.</p>"
        "<p>Share this article</p><p>Leave a Reply</p><p>Your comment here</p>"
    )
    page = liveblog_page(f'[{{"articleBody": "{body}"}}]')
    (update,) = parse_page(page, url=BLOG_URL)
    assert update.text == "Officials said 12 drones were shot down over Kyiv overnight."


@pytest.mark.parametrize(
    "line",
    [
        "Best casino bonuses, visit now",
        "Sports betting odds and a bonus for new players",
        "Visit http://a.example/1 http://a.example/2 http://a.example/3",
    ],
)
def test_spam_lines_after_content_are_dropped(line):
    page = (
        f"<article><p>{'The regional governor said shelling damaged a school. ' * 4}</p>"
        f"<p>{line}</p></article>"
    )
    (update,) = parse_page(page, url=BLOG_URL)
    assert line not in update.text and "governor" in update.text


def test_entries_without_own_id_get_distinct_stable_ids():
    entries = ",".join(
        f'{{"headline": "H{i}", "datePublished": "2023-03-02T0{i}:00:00Z", "articleBody": "B{i}"}}'
        for i in range(3)
    )
    page = liveblog_page(f"[{entries}]")
    first, again = parse_page(page, url=BLOG_URL), parse_page(page, url=BLOG_URL)
    assert len({u.id for u in first}) == 3
    assert [u.id for u in first] == [u.id for u in again]
    assert [u.id for u in parse_page(page, url=BLOG_URL + "/other")] != [u.id for u in first]


def test_duplicate_ids_are_made_unique():
    entries = ",".join(f'{{"@id": "#same", "articleBody": "Text {i}"}}' for i in range(2))
    page = liveblog_page(f"[{entries}]")
    ids = [u.id for u in parse_page(page, url=BLOG_URL)]
    assert ids[0] == "same" and ids[1].startswith("same-") and len(set(ids)) == 2


def test_declared_charset_is_honoured():
    html = (
        '<html><head><meta charset="windows-1251"></head><body><article><p>'
        + "Губернатор сообщил об обстреле села, погиб водитель. " * 5
        + "</p></article></body></html>"
    )
    (update,) = parse_page(html.encode("windows-1251"), url=BLOG_URL)
    assert update.text.startswith("Губернатор сообщил")


def test_input_past_the_cap_is_cut_off():
    head = liveblog_page('{"@id": "u1", "articleBody": "Officials said two drones were downed."}')
    tail = "<p>" + "padding " * 200_000 + "</p><p>Marker text past the cap.</p>"
    page = (head + "<article>" + tail + "</article>").encode()
    assert [u.id for u in parse_page(page, url=BLOG_URL, max_bytes=len(head) + 100)] == ["u1"]
    (article,) = parse_page(page[len(head) :], url=BLOG_URL, max_bytes=10_000)
    assert "Marker" not in article.text and len(article.text) < 10_000


def test_absurd_nesting_is_cut_off_where_it_starts():
    first = "The governor said a drone hit a fuel depot near the border overnight. " * 3
    page = f"<article><p>{first}</p>" + "<div>" * 50_000 + "<p>Deep text.</p>"
    (update,) = parse_page(page, url=BLOG_URL)
    assert update.text == first.strip()


def test_scripts_svg_and_comments_do_not_count_as_nesting():
    noise = '<script>if (a<b && c<d) {}</script><svg><path d="M0"/><g/></svg><!-- <div> -->'
    page = "<article>" + noise * 1_000 + "<p>" + "Officials said two drones were downed. " * 4
    (update,) = parse_page(page, url=BLOG_URL)
    assert update.text.startswith("Officials said two drones were downed.")


def test_scripts_in_bodies_never_become_text():
    body = r"<p>Officials said a bridge was hit.</p><script>alert(\"x\")</script><style>p{}</style>"
    page = liveblog_page(f'{{"articleBody": "{body}"}}')
    (update,) = parse_page(page, url=BLOG_URL)
    assert update.text == "Officials said a bridge was hit."


@pytest.mark.parametrize("page", ["", "<html></html>", "\x00\xff garbage", "<rss><channel>"])
def test_empty_or_garbage_input_gives_nothing(page):
    assert parse_page(page, url=BLOG_URL) == []


def test_escaped_html_in_jsonld_body_is_read_as_html():
    page = liveblog_page('{"articleBody": "&lt;p&gt;Officials said 3 drones fell.&lt;/p&gt;"}')
    (update,) = parse_page(page, url=BLOG_URL)
    assert update.text == "Officials said 3 drones fell."


def test_update_to_dict_is_json_ready():
    (update,) = parse("broken_jsonld.html")
    assert update.to_dict()["published"] == "2023-03-03T06:30:00+02:00"
    assert set(update.to_dict()) == {"id", "published", "headline", "text", "url"}


def test_a_block_of_repeated_form_labels_is_judged_at_once():
    # Each word had doubled the time the furniture pattern took to give up (25 words: 4.6 s).
    assert not is_furniture_text("name " * 60 + "x")
    assert is_furniture_text("Name * Email * Website") and is_furniture_text("comment")


@pytest.mark.parametrize("stamp", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"])
def test_a_date_that_utc_cannot_hold_is_left_out_not_fatal(stamp):
    entry = {"@id": "u1", "datePublished": stamp, "articleBody": "Saboteurs took hostages."}
    page = liveblog_page(json.dumps([entry])).encode()
    (update,) = parse_page(page, url=BLOG_URL)
    assert update.published is None and update.text == "Saboteurs took hostages."
