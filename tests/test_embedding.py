"""The embedder protocol and the bundled multilingual USE model (monitors.embedding)."""

import numpy as np
import pytest

from monitors.embedding import MAX_CHARS, Embedder, load_embedder, truncate


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
