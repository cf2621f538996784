"""An incremental BM25 index over numpy posting arrays.

Claims arrive one at a time from live blogs and must be searchable at once, so there is
no matrix to rebuild: each term keeps its postings (row, tf) and a query scores only the
postings of its own terms. Length normalisation and idf come from live counts at query
time, so adding or removing a document never rewrites other documents' weights.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from monitors.matching.arrays import GrowableArray


@dataclass(slots=True)
class _Postings:
    rows: list[int] = field(default_factory=list)
    tfs: list[float] = field(default_factory=list)
    cache: tuple[np.ndarray, np.ndarray] | None = None
    # Each posting's BM25 weight, valid while the index's statistics stay at `epoch`.
    weights: np.ndarray | None = None
    epoch: int = -1

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self.cache is None:
            self.cache = (
                np.asarray(self.rows, dtype=np.int64),
                np.asarray(self.tfs, dtype=np.float32),
            )
        return self.cache


class Bm25Index:
    """Rows are dense ints handed out by `add`; removed rows score zero forever."""

    def __init__(
        self, k1: float = 1.2, b: float = 0.75, in_mass: Callable[[str], bool] | None = None
    ) -> None:
        """`in_mass` says which terms count in `doc_idf_mass` (default: all)."""
        self.k1 = k1
        self.b = b
        self._in_mass = in_mass
        self._mass_weight = GrowableArray(np.float64)  # 1 for terms counted in doc_idf_mass
        self._ids: dict[str, int] = {}
        self._postings: list[_Postings] = []
        self._df = GrowableArray(np.float64)  # live document frequency per term id
        self._lengths = GrowableArray(np.float32)
        self._alive = GrowableArray(np.bool_)
        self._doc_terms = GrowableArray(np.int64)  # distinct term ids of all rows, concatenated
        self._doc_starts = GrowableArray(np.int64)
        self._live_docs = 0
        self._total_length = 0.0
        self._idf_cache: np.ndarray | None = None
        self._mass_cache: np.ndarray | None = None
        self._norm_cache: np.ndarray | None = None
        self._epoch = 0  # bumped whenever idf or length normalisation change

    def __len__(self) -> int:
        return self._lengths.size

    @property
    def alive(self) -> np.ndarray:
        """Mask over rows: False for removed documents."""
        return self._alive.view()

    def add(self, terms: Iterable[str]) -> int:
        """Index one document and return its row."""
        row = len(self)
        counts = Counter(terms)
        ids = [self._term_id(t) for t in counts]
        for term_id, tf in zip(ids, counts.values(), strict=True):
            postings = self._postings[term_id]
            postings.rows.append(row)
            postings.tfs.append(float(tf))
            postings.cache = None
        self._df.data[ids] += 1
        self._doc_starts.extend([self._doc_terms.size])
        self._doc_terms.extend(ids)
        length = float(sum(counts.values()))
        self._lengths.extend([length])
        self._alive.extend([True])
        self._live_docs += 1
        self._total_length += length
        self._invalidate()
        return row

    def remove(self, row: int) -> None:
        """Drop a document from scoring and from the collection statistics."""
        if not self.alive[row]:
            return
        self.alive[row] = False
        self._df.data[self._row_terms(row)] -= 1
        self._live_docs -= 1
        self._total_length -= float(self._lengths.data[row])
        self._invalidate()

    def idf(self, term: str) -> float:
        """Robertson-Sparck Jones idf (never negative); 0 for unknown terms."""
        term_id = self._ids.get(term)
        return 0.0 if term_id is None else float(self._idf()[term_id])

    def query_idf_mass(self, terms: Iterable[str]) -> float:
        """Sum of idf over a query's terms, in their order. An unseen term is as rare as a
        term can be, so a post's words the collection never saw still count (most of a
        post's terms are unseen: their idf is worked out once here, not once a term)."""
        unseen = float(np.log1p((self._live_docs + 0.5) / 0.5))
        df, idf, ids = self._df.data, self._idf(), self._ids
        total = 0.0
        for term in terms:
            term_id = ids.get(term)
            total += unseen if term_id is None or df[term_id] == 0 else float(idf[term_id])
        return total

    def doc_idf_mass(self, rows: np.ndarray) -> np.ndarray:
        """Sum of idf over each row's distinct terms (for coverage features)."""
        if self._mass_cache is None:
            ends = np.append(self._doc_starts.view()[1:], self._doc_terms.size)
            doc_terms = self._doc_terms.view()
            weights = self._idf()[doc_terms] * self._mass_weight.view()[doc_terms]
            weights = np.concatenate([[0.0], weights])
            cumulative = np.cumsum(weights)
            self._mass_cache = cumulative[ends] - cumulative[self._doc_starts.view()]
        return self._mass_cache[rows].astype(np.float32)

    def score(self, query: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """BM25 of every row for the distinct query terms, and the idf mass each row
        shares with the query. Both arrays have one entry per row."""
        scores, shared = self.score_many([query])
        return scores[0], shared[0]

    def score_many(self, queries: Sequence[Iterable[str]]) -> tuple[np.ndarray, np.ndarray]:
        """`score` for a batch of queries, as two (queries x rows) arrays."""
        scores = np.zeros((len(queries), len(self)), dtype=np.float32)
        shared = np.zeros_like(scores)
        if not self._live_docs or not self._total_length:
            return scores, shared  # nothing indexed has any term: nothing can score
        idf = self._idf()
        for query, query_scores, query_shared in zip(queries, scores, shared, strict=True):
            for term in set(query):
                term_id = self._ids.get(term)
                if term_id is None or idf[term_id] <= 0.0:
                    continue
                rows, weights = self._weighted(term_id)
                # Posting rows are distinct, so fancy-index += is exact here.
                query_scores[rows] += weights
                query_shared[rows] += idf[term_id]
        if self._live_docs < len(self):  # removed rows keep their postings
            scores *= self.alive
            shared *= self.alive
        return scores, shared

    def _weighted(self, term_id: int) -> tuple[np.ndarray, np.ndarray]:
        """A term's posting rows and BM25 weights, kept until the statistics change: a
        post's scoring then costs two array updates a term instead of eight."""
        postings = self._postings[term_id]
        rows, tfs = postings.arrays()
        if postings.weights is None or postings.epoch != self._epoch:
            idf = self._idf()[term_id]
            postings.weights = idf * tfs * (self.k1 + 1.0) / (tfs + self._norm()[rows])
            postings.epoch = self._epoch
        return rows, postings.weights

    def _term_id(self, term: str) -> int:
        term_id = self._ids.get(term)
        if term_id is None:
            term_id = self._ids[term] = len(self._postings)
            self._postings.append(_Postings())
            self._df.extend([0.0])
            self._mass_weight.extend([1.0 if self._in_mass is None or self._in_mass(term) else 0.0])
        return term_id

    def _row_terms(self, row: int) -> np.ndarray:
        start = self._doc_starts.data[row]
        end = self._doc_starts.data[row + 1] if row + 1 < len(self) else self._doc_terms.size
        return self._doc_terms.data[start:end]

    def _idf(self) -> np.ndarray:
        if self._idf_cache is None:
            df = self._df.view()
            idf = np.log1p((self._live_docs - df + 0.5) / (df + 0.5))
            self._idf_cache = np.where(df > 0, idf, 0.0)
        return self._idf_cache

    def _norm(self) -> np.ndarray:
        """BM25's length normalisation of every row: the same for every query."""
        if self._norm_cache is None:
            avgdl = self._total_length / self._live_docs
            self._norm_cache = (
                self.k1 * (1.0 - self.b) + (self.k1 * self.b / avgdl) * self._lengths.view()
            )
        return self._norm_cache

    def _invalidate(self) -> None:
        self._epoch += 1
        self._idf_cache = None
        self._mass_cache = None
        self._norm_cache = None
