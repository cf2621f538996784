"""deep-translator clients behind one blocking call that either returns a usable
translation or raises `BackendError` saying whether trying again may help.

deep-translator fails in many shapes: its own exceptions (some carrying the text or the
API key in their message), raw `requests` exceptions its `except ConnectionError` misses,
JSON errors, `KeyError` on a missing field, `None` results and HTML pages returned as
text. All of them end here as a short reason that is safe to log.
"""

from __future__ import annotations

import re
import threading

import requests
from deep_translator import (
    DeeplTranslator,
    GoogleTranslator,
    LibreTranslator,
    MicrosoftTranslator,
    MyMemoryTranslator,
)
from deep_translator.base import BaseTranslator
from deep_translator.exceptions import (
    ApiKeyException,
    AuthorizationException,
    BaseError,
    InvalidSourceOrTargetLanguage,
    LanguageNotSupportedException,
    MicrosoftAPIerror,
    NotValidLength,
    NotValidPayload,
    RequestError,
    ServerException,
    TooManyRequests,
)

from monitors.translation.settings import TranslatorSettings

# ServerException keeps only a name like "ERR_TOO_MANY_REQUESTS"; map it back to the
# status. Statuses outside its table all become "API server error" (502, 504, ...).
_STATUS_BY_NAME = {name: status for status, name in ServerException.errors.items()}
_MICROSOFT_CODE = re.compile(r"""["']code["']\s*:\s*(\d{3})""")
_HTML = re.compile(r"<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.IGNORECASE)


# Statuses that refuse the text itself (malformed, too long, unprocessable): asking
# again, now or in a day, gets the same answer. Key, quota and server statuses are not
# among them: those pass once the operator or the service recovers.
_REFUSES_THE_TEXT = {400, 413, 414, 422}


class BackendError(Exception):
    """A failed translation request; `reason` is short and never holds text or keys.

    `retryable`: another try within this request may help (429, 5xx, network).
    `permanent`: no later try will, because the text or its language is refused; the
    post is given up at once instead of retried for two days."""

    def __init__(self, reason: str, *, retryable: bool, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.permanent = permanent


class Clients:
    """One deep-translator client per worker thread and source language.

    Clients keep per-request state on themselves (Google writes the text into its URL
    parameters), so a client is never shared between threads.
    """

    def __init__(self, settings: TranslatorSettings) -> None:
        self._settings = settings
        self._local = threading.local()

    def translate(self, source: str, text: str) -> str:
        """Blocking: translate one chunk or raise BackendError."""
        try:
            result = self._client(source).translate(text)
        except Exception as exc:
            raise classify(exc) from exc
        return check_result(result)

    def _client(self, source: str) -> BaseTranslator:
        cache: dict[str, BaseTranslator] = self._local.__dict__.setdefault("clients", {})
        if source not in cache:
            cache[source] = make_client(self._settings, source)
        return cache[source]


def make_client(settings: TranslatorSettings, source: str) -> BaseTranslator:
    """A client for `settings.backend`, translating `source` (or "auto") to the target.

    deep-translator's language tables are stale (its LibreTranslate table has no
    Ukrainian, its MyMemory table only regional codes), so clients are built with codes
    it accepts and then given the real ones: the service itself judges the languages.
    """
    key = settings.api_key
    client: BaseTranslator
    match settings.backend:
        case "google":
            client = GoogleTranslator(source="auto", target="en")
        case "libre":
            # The client refuses to start without a key, but self-hosted servers need none.
            client = LibreTranslator(
                source="auto", target="en", api_key=key or "-", custom_url=_with_slash(settings.url)
            )
            client.api_key = key
        case "deepl":
            # Free-plan keys end in ":fx" and only work on the free endpoint.
            free = (key or "").endswith(":fx")
            client = DeeplTranslator(source="auto", target="en", api_key=key, use_free_api=free)
        case "microsoft":
            client = MicrosoftTranslator(
                source="auto", target="en", api_key=key, region=settings.region
            )
        case "mymemory":
            client = MyMemoryTranslator(source="auto", target="en-GB", email=settings.email)
        case other:
            raise ValueError(f"no client for translation backend {other!r}")
    client.source = source
    client.target = settings.target
    return client


def check_result(result: object) -> str:
    """The translation, if `result` looks like one."""
    if not isinstance(result, str) or not result.strip():
        raise BackendError("empty result", retryable=False)
    if _HTML.search(result):
        raise BackendError("html page instead of a translation", retryable=False)
    return result.strip()


def classify(exc: BaseException) -> BackendError:
    """Name what went wrong, and whether it is worth another try (429, 5xx, network)."""
    match exc:
        case TooManyRequests():
            return BackendError("http 429", retryable=True)
        case ServerException():
            status = _STATUS_BY_NAME.get(str(exc.args[0]) if exc.args else "")
            return _http_error(status)
        case (
            LanguageNotSupportedException()
            | InvalidSourceOrTargetLanguage()
            | NotValidPayload()
            | NotValidLength()
        ):
            return BackendError(f"refused ({type(exc).__name__})", retryable=False, permanent=True)
        case AuthorizationException() | ApiKeyException():
            return BackendError("not authorized (check the api key)", retryable=False)
        case MicrosoftAPIerror():
            found = _MICROSOFT_CODE.search(exc.api_message)
            return _http_error(int(found.group(1)) if found else None)
        case RequestError():
            return BackendError("http error", retryable=True)
        case requests.Timeout():
            return BackendError("timeout", retryable=True)
        case requests.ConnectionError() | requests.exceptions.ChunkedEncodingError():
            return BackendError("connection error", retryable=True)
        # requests' JSONDecodeError is also an OSError, so parse errors come first.
        case (
            ValueError()
            | KeyError()
            | IndexError()
            | TypeError()
            | AttributeError()
            | StopIteration()
        ):
            return BackendError(f"invalid response ({type(exc).__name__})", retryable=False)
        case BaseError():
            return BackendError(f"rejected ({type(exc).__name__})", retryable=False)
        case OSError():
            return BackendError("connection error", retryable=True)
        case _:
            return BackendError(f"unexpected {type(exc).__name__}", retryable=False)


def _http_error(status: int | None) -> BackendError:
    """Unknown statuses (deep-translator drops most) count as server trouble."""
    retryable = status is None or status == 429 or status >= 500
    permanent = status in _REFUSES_THE_TEXT
    return BackendError(f"http {status or 'error'}", retryable=retryable, permanent=permanent)


def _with_slash(url: str | None) -> str:
    # The client appends "translate" to the URL as it is.
    return (url or "").rstrip("/") + "/"
