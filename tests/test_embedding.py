"""The embedder protocol and the bundled multilingual USE model (monitors.embedding)."""

import numpy as np
import pytest

from monitors.embedding import MAX_CHARS, Embedder, load_embedder, truncate
from monitors.stages import Embed, Item
from tests.conftest import make_post


@pytest.fixture(scope="module")
def use():
    return load_embedder("use-multilingual")


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
