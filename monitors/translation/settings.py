"""What the translator is told at start: backend, target language, limits and secrets."""

from __future__ import annotations

from dataclasses import dataclass, field

# Characters per request. Google refuses 5,000 and more, MyMemory 500; the others take
# more but long requests are slow and all-or-nothing, so every backend stays well under.
CHUNK_LIMITS = {"google": 4500, "libre": 4500, "deepl": 4500, "microsoft": 4500, "mymemory": 450}
BACKENDS = (*CHUNK_LIMITS, "none")
NEEDS_KEY = ("deepl", "microsoft")


@dataclass(frozen=True, slots=True)
class TranslatorSettings:
    """Backend choice and limits. Keys come from the caller (the app reads them from
    environment variables); `api_key` is kept out of repr so logs never show it."""

    backend: str = "google"
    target: str = "en"
    url: str | None = None  # LibreTranslate server
    api_key: str | None = field(default=None, repr=False)
    region: str | None = None  # Microsoft resource region
    email: str | None = None  # MyMemory: a contact email raises its daily quota
    timeout_s: float = 20.0
    max_concurrency: int = 4
    rate_per_s: float = 5.0
    retries: int = 3
    backoff_base_s: float = 0.5
    chunk_chars: int | None = None  # None: the backend's entry in CHUNK_LIMITS

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(
                f"unknown translation backend {self.backend!r} (one of {', '.join(BACKENDS)})"
            )
        if self.backend in NEEDS_KEY and not self.api_key:
            raise ValueError(f"translation backend {self.backend!r} needs api_key")
        if self.backend == "libre" and not self.url:
            raise ValueError("translation backend 'libre' needs url")
        if not self.target:
            raise ValueError("translation target must not be empty")
        for name in ("timeout_s", "rate_per_s", "max_concurrency"):
            if getattr(self, name) <= 0:
                raise ValueError(f"translation {name} must be positive")
        if self.retries < 0 or self.backoff_base_s < 0:
            raise ValueError("translation retries and backoff_base_s must not be negative")
        if self.chunk_chars is not None and self.chunk_chars < 1:
            raise ValueError("translation chunk_chars must be positive")

    @property
    def chunk_limit(self) -> int:
        return self.chunk_chars or CHUNK_LIMITS.get(self.backend, 4500)
