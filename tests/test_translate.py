"""The translator against a LibreTranslate-compatible server on loopback, driven through
deep-translator's real LibreTranslator client."""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import Callable, Iterator

import pytest
import requests
from deep_translator.exceptions import (
    LanguageNotSupportedException,
    MicrosoftAPIerror,
    NotValidLength,
    RequestError,
    ServerException,
    TooManyRequests,
)
from hypothesis import given
from hypothesis import strategies as st

from monitors.translate import Translator, TranslatorSettings, text_hash
from monitors.translation.backends import classify
from monitors.translation.chunking import join_chunks, split_text
from monitors.translation.ratelimit import TokenBucket
from tests.libretranslate_server import LibreTranslateServer, Reply

MakeTranslator = Callable[..., Translator]


@pytest.fixture
def server() -> Iterator[LibreTranslateServer]:
    with LibreTranslateServer() as running:
        yield running


@pytest.fixture
def make_translator(server: LibreTranslateServer) -> Iterator[MakeTranslator]:
    made: list[Translator] = []

    def make(**overrides: object) -> Translator:
        options: dict = dict(
            backend="libre",
            url=server.url,
            timeout_s=2.0,
            rate_per_s=1000.0,
            retries=2,
            backoff_base_s=0.01,
        )
        options.update(overrides)
        made.append(Translator(TranslatorSettings(**options), rng=random.Random(7)))
        return made[-1]

    yield make
    for translator in made:
        translator.close()


async def test_translates_each_text_in_order(server, make_translator):
    translator = make_translator()
    results = await translator.translate(["Село взяли.", "Губернатор заявив."], source="uk")
    assert [r.text for r in results] == ["СЕЛО ВЗЯЛИ.", "ГУБЕРНАТОР ЗАЯВИВ."]
    assert [r.error for r in results] == [None, None]
    assert [r.chars for r in results] == [11, 18]
    assert sorted((s.q, s.source, s.target, s.api_key) for s in server.requests) == [
        ("Губернатор заявив.", "uk", "en", None),
        ("Село взяли.", "uk", "en", None),
    ]
    assert (translator.stats.requests, translator.stats.chars_sent) == (2, 29)
    assert (translator.stats.failures, translator.stats.retries) == (0, 0)


async def test_sends_the_api_key_and_auto_source(server, make_translator):
    await make_translator(api_key="sekret").translate(["текст"])
    assert [(s.source, s.api_key) for s in server.requests] == [("auto", "sekret")]


async def test_retries_after_429(server, make_translator):
    server.script(Reply(status=429, body={"error": "slow down"}))
    translator = make_translator()
    [result] = await translator.translate(["Тиша."], source="ru")
    assert (result.text, result.error, result.chars) == ("ТИША.", None, 10)
    stats = translator.stats
    assert (stats.requests, stats.retries, stats.failures, stats.chars_sent) == (2, 1, 0, 10)


async def test_gives_up_after_the_last_retry_on_500(server, make_translator):
    server.script(*[Reply(status=500, body={"error": "boom"})] * 5)
    translator = make_translator(retries=2)
    [result] = await translator.translate(["Тиша."], source="ru")
    assert (result.text, result.error, result.chars) == (None, "http 500", 15)
    stats = translator.stats
    assert (stats.requests, stats.retries, stats.failures, stats.chars_sent) == (3, 2, 1, 15)
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("status", "error"), [(400, "http 400"), (403, "not authorized (check the api key)")]
)
async def test_does_not_retry_client_errors(server, make_translator, status, error):
    server.script(Reply(status=status, body={"error": "no"}))
    translator = make_translator(api_key="sekret")
    [result] = await translator.translate(["Тиша."], source="ru")
    assert (result.text, result.error) == (None, error)
    assert "sekret" not in result.error
    assert (translator.stats.requests, translator.stats.retries) == (1, 0)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (
            Reply(body="<html><body>502 Bad Gateway</body></html>", content_type="text/html"),
            "invalid response (JSONDecodeError)",
        ),
        (
            Reply(body={"translatedText": "<!DOCTYPE html><html><body>Sign in</body></html>"}),
            "html page instead of a translation",
        ),
        (Reply(body={"detail": "translated"}), "invalid response (KeyError)"),
        (Reply(body="[1, 2]"), "invalid response (TypeError)"),
        (Reply(body={}), "rejected (TranslationNotFound)"),
        (Reply(body={"translatedText": None}), "empty result"),
        (Reply(body={"translatedText": "  "}), "empty result"),
    ],
)
async def test_garbage_is_a_failure_without_retry(server, make_translator, reply, error):
    server.script(reply)
    translator = make_translator()
    [result] = await translator.translate(["Тиша."], source="ru")
    assert (result.text, result.error) == (None, error)
    assert (translator.stats.requests, translator.stats.failures) == (1, 1)


async def test_connection_refused_is_retried_then_reported(make_translator):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_url = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    translator = make_translator(url=closed_url, retries=1)
    [result] = await translator.translate(["Тиша."], source="ru")
    assert (result.text, result.error) == (None, "connection error")
    assert (translator.stats.requests, translator.stats.retries) == (2, 1)


async def test_a_hung_request_times_out_while_the_loop_runs_on(server, make_translator):
    server.script(Reply(hang=True))
    translator = make_translator(timeout_s=0.5, retries=0)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    beat = asyncio.create_task(ticker())
    started = time.monotonic()
    [result] = await translator.translate(["Тиша."], source="ru")
    elapsed = time.monotonic() - started
    beat.cancel()
    assert (result.text, result.error) == (None, "timeout")
    assert 0.5 <= elapsed < 1.5
    assert ticks >= 10
    assert translator.hung_threads == 1
    [later] = await translator.translate(["Далі."], source="ru")  # the pool still serves
    assert later.text == "ДАЛІ."


async def test_fails_fast_once_every_worker_is_hung(server, make_translator):
    server.script(Reply(hang=True), Reply(hang=True))
    translator = make_translator(timeout_s=0.2, retries=0, max_concurrency=1)
    results = await translator.translate(["Один.", "Два."], source="ru")
    assert [r.error for r in results] == ["timeout", "timeout"]
    started = time.monotonic()
    [result] = await translator.translate(["Три."], source="ru")
    assert (result.error, result.chars) == ("stalled: all workers hung", 0)
    assert time.monotonic() - started < 0.1
    assert len(server.requests) == 2


async def test_long_post_is_chunked_and_joined_in_order(server, make_translator):
    sentences = [f"Повідомлення {i} про обстріл села біля кордону вранці." for i in range(240)]
    paragraphs = [" ".join(sentences[i : i + 8]) for i in range(0, len(sentences), 8)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 12_000
    translator = make_translator()
    [result] = await translator.translate([text], source="uk")
    assert result.text == text.upper()
    assert len(server.requests) >= 3
    assert all(len(seen.q) <= 4500 for seen in server.requests)
    assert result.chars == sum(len(seen.q) for seen in server.requests)


async def test_concurrency_is_capped(server, make_translator):
    server.script(*[Reply(delay_s=0.1)] * 9)
    translator = make_translator(max_concurrency=3)
    results = await translator.translate([f"Текст {i}." for i in range(9)], source="ru")
    assert [r.text for r in results] == [f"ТЕКСТ {i}." for i in range(9)]
    assert server.max_active == 3


@pytest.mark.parametrize("source", ["en", "en-GB", "EN"])
async def test_text_in_the_target_language_is_not_sent(server, make_translator, source):
    translator = make_translator()
    results = await translator.translate(["Village taken.  ", "  "], source=source)
    assert [(r.text, r.error, r.chars) for r in results] == [
        ("Village taken.  ", None, 0),
        ("  ", None, 0),
    ]
    assert server.requests == []
    assert translator.stats.requests == 0


async def test_backend_none_is_disabled():
    translator = Translator(TranslatorSettings(backend="none"))
    results = await translator.translate(["Тиша.", ""], source="ru")
    assert [(r.text, r.error) for r in results] == [(None, "disabled"), (None, "disabled")]
    assert translator.stats.requests == 0
    translator.close()


def test_settings_reject_unknown_backend_and_missing_key():
    with pytest.raises(ValueError, match="'yandex'"):
        TranslatorSettings(backend="yandex")
    with pytest.raises(ValueError, match="'deepl' needs api_key"):
        TranslatorSettings(backend="deepl")
    with pytest.raises(ValueError, match="'libre' needs url"):
        TranslatorSettings(backend="libre")
    assert "sekret" not in repr(TranslatorSettings(backend="deepl", api_key="sekret"))


@pytest.mark.parametrize(
    ("exc", "reason", "retryable"),
    [
        (TooManyRequests(), "http 429", True),
        (RequestError(), "http error", True),
        (MicrosoftAPIerror({"code": 429001, "message": "x"}), "http 429", True),
        (MicrosoftAPIerror({"code": 400036, "message": "x"}), "http 400", False),
        (requests.ConnectionError("refused"), "connection error", True),
        (requests.ReadTimeout("slow"), "timeout", True),
        (RuntimeError("?"), "unexpected RuntimeError", False),
    ],
)
def test_classify_other_backends_errors(exc, reason, retryable):
    error = classify(exc)
    assert (error.reason, error.retryable) == (reason, retryable)


@pytest.mark.parametrize(
    ("exc", "permanent"),
    [
        (ServerException(400), True),  # the text is malformed for this backend
        (ServerException(413), True),  # too long
        (MicrosoftAPIerror({"code": 400036, "message": "x"}), True),
        (LanguageNotSupportedException("xx"), True),
        (NotValidLength("x" * 6000, 0, 5000), True),
        (ServerException(403), False),  # a quota or key: passes once fixed
        (ServerException(503), False),
        (TooManyRequests(), False),
        (requests.ConnectionError("refused"), False),
    ],
)
def test_only_refusals_of_the_text_itself_are_permanent(exc, permanent):
    assert classify(exc).permanent is permanent


async def test_a_refused_text_comes_back_permanent_and_an_outage_does_not(server, make_translator):
    server.script(Reply(status=400, body={"error": "bad"}), *[Reply(status=503)] * 3)
    translator = make_translator(retries=2)
    [refused] = await translator.translate(["Тиша."], source="ru")
    [down] = await translator.translate(["Тиша."], source="ru")
    assert (refused.error, refused.permanent) == ("http 400", True)
    assert (down.error, down.permanent) == ("http 503", False)


def test_text_hash_ignores_layout_but_not_target():
    assert text_hash("Село  взяли.\n", "en") == text_hash(" Село взяли.", "en")
    assert text_hash("Село взяли.", "en") != text_hash("Село взяли.", "de")
    assert text_hash("Село взяли.", "en") != text_hash("Село взято.", "en")


@given(st.text(alphabet=st.sampled_from("ab .!?\n"), max_size=200), st.integers(1, 12))
def test_chunks_fit_the_limit_and_join_back(text, limit):
    chunks = split_text(text, limit)
    assert all(0 < len(chunk.text) <= limit for chunk in chunks)
    assert all(not chunk.text[-1].isspace() for chunk in chunks)
    assert join_chunks(chunks) == text.strip()


def test_chunks_cut_at_sentences_before_words():
    text = "One two three. Four five six. Seven."
    assert [c.text for c in split_text(text, 30)] == ["One two three. Four five six.", "Seven."]
    assert [c.text for c in split_text(text, 10)][:2] == ["One two", "three."]


async def test_token_bucket_spaces_requests():
    now = 0.0
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        nonlocal now
        slept.append(seconds)
        now += seconds

    bucket = TokenBucket(4.0, clock=lambda: now, sleep=sleep)
    for _ in range(3):
        await bucket.acquire()
    assert slept == pytest.approx([0.25, 0.25])
