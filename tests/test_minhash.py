"""Banded MinHash candidate lookup (monitors.minhash)."""

import numpy as np

from monitors.minhash import MinHashLsh


def _shingles(start: int, stop: int) -> np.ndarray:
    return np.arange(start, stop, dtype=np.uint32) * np.uint32(2654435761)


def test_similar_sets_are_candidates_and_disjoint_ones_are_not():
    lsh = MinHashLsh()
    lsh.insert("a", lsh.signature(_shingles(0, 100)))
    lsh.insert("b", lsh.signature(_shingles(1000, 1100)))
    assert lsh.query(lsh.signature(_shingles(10, 100))) == {"a"}  # Jaccard 0.9
    assert lsh.query(lsh.signature(_shingles(5000, 5100))) == set()


def test_signature_estimates_jaccard():
    lsh = MinHashLsh(num_perm=256, bands=1, rows=1)
    a, b = lsh.signature(_shingles(0, 300)), lsh.signature(_shingles(150, 450))
    assert abs((a == b).mean() - 1 / 3) < 0.1


def test_removed_keys_are_not_returned():
    lsh = MinHashLsh()
    signature = lsh.signature(_shingles(0, 50))
    lsh.insert("a", signature)
    lsh.remove("a")
    lsh.remove("never added")
    assert lsh.query(signature) == set()
    assert len(lsh) == 0


def test_bands_of_any_width_find_the_same_set():
    lsh = MinHashLsh(num_perm=12, bands=4, rows=3)
    lsh.insert("a", lsh.signature(_shingles(0, 100)))
    assert lsh.query(lsh.signature(_shingles(0, 100))) == {"a"}
    assert lsh.query(lsh.signature(_shingles(5000, 5100))) == set()


def test_keys_sharing_every_band_are_found_and_forgotten_one_by_one():
    lsh = MinHashLsh()
    same = lsh.signature(_shingles(0, 100))
    for key in ("a", "b", "c"):
        lsh.insert(key, same)
    lsh.insert("d", lsh.signature(_shingles(5000, 5100)))
    assert lsh.query(same) == {"a", "b", "c"}
    lsh.remove("b")
    assert lsh.query(same) == {"a", "c"}
    lsh.remove("a")
    lsh.remove("a")  # unknown by now: ignored
    assert lsh.query(same) == {"c"}
    lsh.remove("c")
    assert lsh.query(same) == set() and len(lsh) == 1
    assert lsh.query(lsh.signature(_shingles(5000, 5100))) == {"d"}


def test_signature_is_the_least_high_half_of_each_hash():
    lsh = MinHashLsh(num_perm=8, bands=4, rows=2, seed=7)
    shingles = _shingles(0, 40)
    expected = [
        min(((int(a) * int(x) + int(b)) % 2**64) >> 32 for x in shingles)
        for a, b in zip(lsh._a, lsh._b, strict=True)
    ]
    assert lsh.signature(shingles).tolist() == expected
