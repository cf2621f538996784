"""Telegram HTML for alerts and the digest: exact layout, and properties over hostile text.

Every check goes through Telethon's own HTML parser, which is what turns our HTML into
the text and entities Telegram receives.
"""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st
from telethon.extensions import html as telethon_html
from telethon.helpers import add_surrogate, del_surrogate
from telethon.tl.types import MessageEntityBlockquote, MessageEntityTextUrl, MessageEntityUrl

from bot import telegram_html as tg
from bot.alert_render import MAX_CLAIM, MAX_NAME, render_alert_html, render_console
from storage.alerts import Alert, StoryPost

T0 = datetime(2023, 3, 2, 8, 1, tzinfo=UTC)
ALERT = Alert(
    id=7,
    channel_id=100,
    channel="@rdk_north",
    category="partisan",
    message_id=5,
    link="https://t.me/rdk_north/5",
    date=T0,
    text="РДК: мы зашли в Любечане <b>сегодня</b> & держим позиции",
    lang="ru",
    translation="RDK: we entered Lyubechane <b>today</b> & hold positions",
    claim_id="raid",
    claim_text='Fighters "took" a village in Bryansk region',
    claim_source="Live blog",
    claim_url="https://blog.example/live?a=1&b=2#u",
    score=0.8234,
    stance="supports",
    reasons=("names: Lyubechane", "terms: village, Bryansk"),
    cluster_id="100/5",
    cluster_posts=4,
    cluster_channels=3,
    edited=True,
    also=(
        StoryPost("@gov_bryansk", "https://t.me/gov_bryansk/9", T0 + timedelta(minutes=20)),
        StoryPost("Сіверщина", "https://t.me/c/77/3", T0 + timedelta(minutes=40)),
    ),
    claim_published=T0 + timedelta(hours=2, minutes=15),
    feedback="not_relevant",
)

EXPECTED = """\
<b>@rdk_north</b> · partisan · 2023-03-02 08:01 UTC · <b>edited</b>
<a href="https://t.me/rdk_north/5">Open the post</a>
<b>Claim raid:</b> <i>Fighters &quot;took&quot; a village in Bryansk region</i>
Source: <a href="https://blog.example/live?a=1&amp;b=2#u">Live blog</a>
Score 0.82 · supports · why: names: Lyubechane; terms: village, Bryansk
<b>Original (ru)</b>
<blockquote expandable>РДК: мы зашли в Любечане &lt;b&gt;сегодня&lt;/b&gt; &amp; держим \
позиции</blockquote>
<b>English</b>
<blockquote>RDK: we entered Lyubechane &lt;b&gt;today&lt;/b&gt; &amp; hold positions</blockquote>
Story: 4 posts in 3 channels
+2 channels: <a href="https://t.me/gov_bryansk/9">@gov_bryansk</a>, \
<a href="https://t.me/c/77/3">Сіверщина</a>
First seen on @rdk_north 2 h 15 min before the live blog
Analyst feedback: not relevant"""


def test_a_representative_alert_renders_exactly():
    assert render_alert_html(ALERT) == [EXPECTED]


def test_alert_variants():
    later = replace(
        ALERT,
        deleted=True,
        claim_url="javascript:alert(1)",
        claim_published=T0 - timedelta(minutes=5),
        cluster_channels=14,
        feedback=None,
        translation=None,
        text=" \x00 ",
    )
    [html] = render_alert_html(later)
    text, entities = telethon_html.parse(html)
    assert "· <b>edited</b> · <b>deleted</b>" in html
    assert "Source: Live blog\n" in text and "javascript" not in html
    assert "+13 channels: @gov_bryansk, Сіверщина and 11 more" in text
    assert "First seen" not in text and "feedback" not in text and "English" not in text
    assert "<b>Original (ru)</b>\n<i>(no text)</i>" in html
    assert {e.url for e in entities if isinstance(e, MessageEntityTextUrl)} == {
        ALERT.link,
        *(post.link for post in ALERT.also),
    }


def test_the_first_channel_leads_even_when_it_is_not_the_alerted_post():
    early = StoryPost("@first", "https://t.me/first/1", T0 - timedelta(minutes=50))
    [html] = render_alert_html(replace(ALERT, also=(early, *ALERT.also)))
    assert "First seen on @first 3 h 05 min before the live blog" in html
    assert "+3 channels: <a" in html


def test_console_rendering_keeps_escape_sequences_off_the_terminal():
    hostile = replace(ALERT, channel="\x1b]0;pwned\x07chan", claim_id="c\n\x1b[31mred")
    block = render_console(replace(hostile, text="a " * 400))
    assert "\x1b" not in block and "\x07" not in block and "claim c [31mred:" in block
    assert "]0;pwned chan [partisan] 2023-03-02 08:01 UTC" in block
    assert "a a…" in block


def test_escape_drops_controls_and_lone_surrogates_but_keeps_emoji_and_bidi():
    family, flag, rtl = "👨\u200d👩\u200d👧", "🏴\U000e0067\U000e0062\U000e007f", "\u200f"
    raw = f'<a href="x">\'{family}{flag}{rtl}\x00\x1b\x85\ud83d\tend\n'
    assert tg.escape(raw) == (f"&lt;a href=&quot;x&quot;&gt;&#x27;{family}{flag}{rtl}\tend\n")


def test_a_name_cannot_turn_the_rest_of_its_line_around():
    """An unclosed right-to-left override in a channel title would show the next
    channel's name and the counts reversed; right-to-left letters stay as they are."""
    spoof = StoryPost("\u202eevil\u2067", "https://t.me/c/78/1", T0 + timedelta(minutes=50))
    arabic = StoryPost("قناة", "https://t.me/c/79/1", T0 + timedelta(minutes=55))
    [html] = render_alert_html(replace(ALERT, also=(*ALERT.also, spoof, arabic)))
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", html)
    assert ">evil</a>, <a" in html and ">قناة</a>" in html


def test_shorten_cuts_after_a_word_or_between_graphemes():
    assert tg.shorten("short", 5) == "short"
    assert tg.shorten("one two three", 10) == "one two…"
    assert tg.shorten("one two three", 8) == "one two…"  # the space right after counts
    family = "👨\u200d👩\u200d👧"  # five code points, one grapheme
    assert tg.shorten(family * 4, 12) == family * 2 + "…"
    assert tg.shorten("a https://example.org/very/long/path", 20) == "a https://example.o…"


def test_duration_reads_like_an_analyst_says_it():
    assert tg.duration(timedelta(minutes=45)) == "45 min"
    assert tg.duration(timedelta(hours=-2, minutes=-5)) == "2 h 05 min"


def test_split_counts_the_parsed_text_not_the_markup():
    links = "".join(tg.link("x", f"https://t.me/c/1/{n}") for n in range(100))
    assert tg.split_message(links, limit=100) == [links]  # 3,000 characters of markup
    pieces = tg.split_message("😀" * 3000)  # 6,000 UTF-16 units
    assert [tg.utf16_len(piece) for piece in pieces] == [4096, 1904]


def test_a_line_without_spaces_is_cut_between_emoji_not_inside_one():
    family, flag, accented = "👨\u200d👩\u200d👧", "🇺🇦", "е\u0301"  # 8, 4 and 2 units
    for grapheme in (family, flag, accented):
        line = grapheme * 40
        pieces = tg.split_message(tg.escape(line), limit=51)
        assert "".join(pieces) == line
        assert all(piece == grapheme * (len(piece) // len(grapheme)) for piece in pieces)


def test_split_never_sends_a_blank_message():
    quote = tg.blockquote("line\n" * 5) + "\n<b> </b>"
    for limit in range(4, 30):
        for piece in tg.split_message(quote, limit):
            assert telethon_html.parse(piece)[0].strip()


# Hostile text: markup, fake links, entities, markdown, emoji (ZWJ, flags, astral), bidi
# marks, controls, lone surrogates, and texts long enough to need shortening or cutting.
FRAGMENTS = (
    '<a href="http://evil.example">click</a>',
    "<b>",
    "</blockquote>",
    "<blockquote expandable>",
    "&amp;",
    "&lt;",
    "&#128512;",
    "\"quoted\" 'single'",
    "**bold** [link](http://evil.example)",
    "https://evil.example/path",
    "@someone",
    "👨\u200d👩\u200d👧\u200d👦",
    "🇺🇦",
    "😀",
    "e\u0301",
    "\u200f",
    "\u202e",
    "\u200d",
    "\x00",
    "\x1b[31m",
    "\x85",
    "\r\n",
    "\t",
    "\n",
    " ",
    "\u2028",
    "\ud83d",
    "\ude00",
)
pieces_of_text = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20))
hostile = st.one_of(
    st.lists(pieces_of_text, max_size=30).map("".join),
    st.builds(lambda chunk, times: (chunk * times)[:20_000], pieces_of_text, st.integers(1, 3000)),
)
urls = st.sampled_from(
    (None, 'https://blog.example/live?a=1&b="2"#x', "javascript:alert(1)", 'http://x"><b>')
)


def stories(names: list[str]) -> tuple[StoryPost, ...]:
    return tuple(
        StoryPost(name, f"https://t.me/c/{n}/1", T0 + timedelta(minutes=n))
        for n, name in enumerate(names, 1)
    )


def shown(raw: str, limit: int) -> str:
    """What the analyst must see of `raw`: the documented cleaning, then shortening."""
    return tg.shorten(tg.strip_controls(raw).strip(), limit)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def entity_text(text: str, entity) -> str:
    return del_surrogate(add_surrogate(text)[entity.offset : entity.offset + entity.length])


@settings(max_examples=60, deadline=None)
@given(
    text=hostile,
    translation=st.one_of(st.none(), hostile),
    claim=hostile,
    channel=hostile,
    also=st.lists(hostile, max_size=10),
    claim_url=urls,
)
@example(  # astral-heavy texts: the one alert that needs two messages
    text="😀" * 3000,
    translation="🇺🇦 " * 5000,
    claim="👨\u200d👩\u200d👧\u200d👦" * 600,
    channel="x" * 20_000,
    also=["\n" * 30] * 10,
    claim_url="https://blog.example/live",
)
def test_any_alert_renders_safe_whole_messages(text, translation, claim, channel, also, claim_url):
    alert = replace(
        ALERT,
        text=text,
        translation=translation,
        claim_text=claim,
        channel=channel,
        also=stories(also),
        claim_url=claim_url,
    )
    parsed = [telethon_html.parse(piece) for piece in render_alert_html(alert)]
    assert all(0 < tg.utf16_len(text) <= tg.TELEGRAM_LIMIT for text, _ in parsed)
    entities = [entity for _, found in parsed for entity in found]
    assert not any(isinstance(entity, MessageEntityUrl) for entity in entities)
    ours = {alert.link, *(post.link for post in alert.also)}
    ours |= {claim_url} if tg.is_web_url(claim_url) else set()
    assert {e.url for e in entities if isinstance(e, MessageEntityTextUrl)} == ours

    whole = "".join(text for text, _ in parsed)
    names = [tg.one_line(name) for name in (channel, *also)]
    expected = [shown(text, 900), shown(claim, MAX_CLAIM), *(shown(n, MAX_NAME) for n in names)]
    if translation is not None:
        expected.append(shown(translation, 900))
    assert all(squash(part) in squash(whole) for part in expected)
    if len(parsed) == 1:  # nothing was cut: every text is there to the character
        [(message, found)] = parsed
        assert all(part in message for part in expected)
        quotes = [entity_text(message, e) for e in found if isinstance(e, MessageEntityBlockquote)]
        if shown(text, 900):  # the post, exactly, is the first quote
            assert quotes[0] == shown(text, 900)


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(hostile, min_size=1, max_size=12),
    limit=st.integers(8, 600),
    links=st.booleans(),
)
def test_split_keeps_pieces_parseable_small_and_in_order(texts, limit, links):
    builders = (tg.escape, tg.bold, tg.italic, tg.blockquote)
    lines = [builders[n % len(builders)](text) for n, text in enumerate(texts)]
    if links:
        lines = [
            tg.link(text, f"https://t.me/c/1/{n}") + line
            for n, (text, line) in enumerate(zip(texts, lines, strict=True))
        ]
    document = "\n".join(lines)
    whole = telethon_html.parse(document)[0]
    position = 0
    for piece in tg.split_message(document, limit):
        text, _ = telethon_html.parse(piece)
        assert 0 < tg.utf16_len(text) <= limit and text.strip() == text
        found = whole.find(text, position)
        assert found >= 0 and not whole[position:found].strip()  # only whitespace lost
        position = found + len(text)
    assert not whole[position:].strip()
