"""Rank claims for posts: BM25 + multilingual embedding + names, calibrated to [0, 1].

An alert means "an analyst should look", so scores are probabilities fitted on labelled
pairs (see calibration.py) and the alert threshold comes from the same fit. Candidates are
the union of the best claims by each signal; only they get features and explanations,
which keeps a post against 10,000 claims at a few milliseconds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Literal

import numpy as np

from monitors.embedding import Embedder
from monitors.matching import adapter, features
from monitors.matching.arrays import GrowableArray
from monitors.matching.bm25 import Bm25Index
from monitors.matching.calibration import MODELS, Model
from monitors.matching.explain import reasons
from monitors.matching.glossary import english_term
from monitors.matching.stance import denial, stance
from monitors.matching.text import (
    embed_text,
    for_encoder,
    run_together_terms,
    surface_forms,
    terms,
)
from monitors.matching.translit import (
    MIN_COGNATE,
    SurfaceKeys,
    capitalised_names,
    cognate_index_keys,
    cognate_probes,
    name_keys,
    probes,
    surfaces_by_key,
)
from monitors.models import UNDETERMINED, Claim, Match, Post

CANDIDATES_PER_SIGNAL = 30
COMPACT_AFTER = 1_000  # removed rows kept before the indexes are rebuilt (and past live ones)
_CYRILLIC = re.compile("[а-яА-ЯёЁіїєґўІЇЄҐЎ]")


@dataclass(frozen=True, slots=True)
class Query:
    """A post to rank. `translation` is English; `vector` a precomputed embedding of the
    text as `text.for_encoder` gives it (the pipeline's, made before translating)."""

    text: str
    translation: str | None = None
    lang: str = UNDETERMINED
    vector: np.ndarray | None = None

    @classmethod
    def from_post(cls, post: Post, vector: np.ndarray | None = None) -> Query:
        return cls(post.text, post.translation, post.lang, vector)


@dataclass(frozen=True, slots=True)
class _Indexed:
    """A claim with what explanations need, analysed once when it is added."""

    claim: Claim
    text: str
    terms: dict[str, str]  # term -> surface word
    names: dict[str, str]  # name key -> name


@dataclass(slots=True)
class _Parsed:
    """What a query contributes to scoring and explanation, computed once."""

    query: Query
    terms: set[str]
    names: dict[str, str]
    english: bool  # English text to match: the post's own or a translation
    phrases: set[str]
    to_embed: str | None  # what to embed; None: the query's vector, or no embedder
    english_vector: bool  # the vector (given or made here) is of English text


class Matcher:
    """Claims index plus ranking; claims can be added and removed at any time."""

    def __init__(
        self,
        embedder: Embedder | None,
        threshold: float | None = None,
        vector_map: np.ndarray | Literal["packaged"] | None = "packaged",
        english: Embedder | None = None,
    ) -> None:
        """`vector_map` (adapter.py) is applied to the cosines of posts the "full" model
        ranks; by default the one fitted with the calibration, None for raw cosines.
        `english` embeds posts with English text and their candidate claims a second time
        (minilm.py) for the "full" model; without it, the "full-use" model scores those
        posts."""
        self.embedder = embedder
        self.english = english if embedder is not None else None
        self.threshold = threshold
        if isinstance(vector_map, str):
            vector_map = adapter.packaged(embedder.dim) if embedder is not None else None
        self.vector_map = vector_map
        self._empty_indexes()

    def _empty_indexes(self) -> None:
        self._claims: list[_Indexed] = []  # by row, removed ones included
        self._rows: dict[str, int] = {}
        self._terms = Bm25Index()
        # A claim's name is all there in a post that spells its skeleton (translit.probes).
        self._names = Bm25Index(in_mass=lambda key: key.startswith("~"))
        self._phrases = Bm25Index()
        self._name_bridge = _Bridge()
        self._cognates = _CognateBridge()
        dim = self.embedder.dim if self.embedder is not None else 0
        self._vectors = GrowableArray(np.float32, dim)
        self._mapped = GrowableArray(np.float32, dim if self.vector_map is not None else 0)
        # A claim's English vector, by row, made the first time an English post has the
        # claim among its candidates: a stream with no English text never loads the model.
        self._english_claims: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, claim_id: object) -> bool:
        return claim_id in self._rows

    def add_claims(self, claims: Sequence[Claim]) -> None:
        """Index claims (searchable at once); re-adding an id replaces that claim."""
        claims = list({claim.id: claim for claim in claims}.values())
        for claim in claims:
            self.remove_claim(claim.id)
        if self.embedder is not None and claims:
            self._add_vectors(self.embedder.encode([claim_text(c) for c in claims]))
        for claim in claims:
            self._index(claim)
        if len(self._claims) - len(self._rows) > max(len(self._rows), COMPACT_AFTER):
            self._compact()

    def _add_vectors(self, vectors: np.ndarray) -> None:
        self._vectors.extend(vectors)
        if self.vector_map is not None:
            self._mapped.extend(adapter.adapt(vectors, self.vector_map))

    def _index(self, claim: Claim) -> None:
        """A claim's rows in the lexical indexes and bridges (its vector is added first)."""
        text = claim_text(claim)
        capitalised = capitalised_names(text)
        entry = _Indexed(claim, text, surface_forms(text, claim.lang), surfaces_by_key(capitalised))
        claim_terms = terms(text, claim.lang)
        row = self._terms.add(claim_terms)
        self._names.add(list(entry.names))
        self._phrases.add(_bigrams(claim_terms))
        self._name_bridge.add(name_entries(capitalised, claim.lang))
        self._cognates.add(cognate_entries(claim_terms))
        self._claims.append(entry)
        self._rows[claim.id] = row

    def _compact(self) -> None:
        """Index the live claims afresh, keeping their vectors. Removed rows score zero but
        still cost time and memory: a service whose live blogs re-word claims for months
        would otherwise rank against ever more of them."""
        live = sorted(self._rows.values())
        claims = [self._claims[row].claim for row in live]
        vectors, mapped = self._vectors.view()[live], self._mapped.view()[live]
        english = {new: self._english_claims.get(old) for new, old in enumerate(live)}
        self._empty_indexes()
        self._vectors.extend(vectors)
        self._mapped.extend(mapped)
        for claim in claims:
            self._index(claim)
        self._english_claims = {row: v for row, v in english.items() if v is not None}

    def remove_claim(self, claim_id: str) -> None:
        """Stop matching a claim; unknown ids are ignored."""
        row = self._rows.pop(claim_id, None)
        if row is not None:
            entry = self._claims[row]
            self._name_bridge.remove(name_entries(capitalised_names(entry.text), entry.claim.lang))
            self._cognates.remove(cognate_entries(terms(entry.text, entry.claim.lang)))
            self._terms.remove(row)
            self._names.remove(row)
            self._phrases.remove(row)
            self._english_claims.pop(row, None)

    def rank(
        self,
        text: str,
        *,
        translation: str | None = None,
        lang: str = UNDETERMINED,
        vector: np.ndarray | None = None,
        k: int = 5,
    ) -> list[Match]:
        """The k best claims for one post, best first."""
        return self.rank_many([Query(text, translation, lang, vector)], k)[0]

    def rank_many(
        self, items: Sequence[Query], k: int = 5, floor: float = 0.0
    ) -> list[list[Match]]:
        """Rank a batch, one list per item: its k best claims that score at least `floor`.
        What needs embedding (see `_vector_source`) is embedded together in one call."""
        if not items:
            return []
        parsed = [self._parse(item) for item in items]
        cosines = self._cosines(parsed)
        pairs = zip(parsed, *self._pairs(parsed, cosines), strict=True)
        return [
            self._matches(item, rows, matrix, None if cosines is None else cosines[i], k, floor)
            for i, (item, rows, matrix) in enumerate(pairs)
        ]

    def pair_features(self, item: Query) -> tuple[list[str], np.ndarray]:
        """Candidate claim ids and their feature rows (what `fit` learns from)."""
        parsed = [self._parse(item)]
        [rows], [matrix] = self._pairs(parsed, self._cosines(parsed))
        return [self._claims[r].claim.id for r in rows], matrix

    def _parse(self, item: Query) -> _Parsed:
        english_text = reads_as_english(item.text, item.lang)
        post_terms = terms(item.text, item.lang)
        post_terms += run_together_terms(item.text, lambda term: self._terms.idf(term) > 0)
        phrases = set(_bigrams(post_terms))
        capitalised = capitalised_names(item.text)
        names = surfaces_by_key(capitalised, probing=True)
        if not english_text:
            post_terms += self._cognates.terms_for_post(post_terms) + (
                self._name_bridge.terms_for(name_probes(capitalised))
            )
        if item.translation:
            translated = terms(item.translation, "en")
            post_terms += translated
            phrases.update(_bigrams(translated))
            names.update(name_keys(item.translation, probing=True))
        english = english_text or bool(item.translation)
        to_embed, english_vector = self._vector_source(item, english_text)
        return _Parsed(item, set(post_terms), names, english, phrases, to_embed, english_vector)

    def _vector_source(self, item: Query, english_text: bool) -> tuple[str | None, bool]:
        """What to embed for an item (None: its given vector, or no embedder) and whether
        its vector is of English text. A given vector is of the post's own text (the
        pipeline embeds before it translates); one made here is of the English translation
        when there is one, else of the text as the encoder reads it (Ukrainian glossed)."""
        if self.embedder is None or item.vector is not None:
            return None, english_text
        if item.translation:
            return embed_text(item.translation), True
        return for_encoder(item.text, item.lang), english_text

    def _cosines(self, parsed: Sequence[_Parsed]) -> np.ndarray | None:
        """Cosine of every item against every claim row (items x rows)."""
        if self.embedder is None:
            return None
        texts = [p.to_embed for p in parsed]
        vectors = np.zeros((len(parsed), self.embedder.dim), dtype=np.float32)
        missing = [i for i, text in enumerate(texts) if text is not None]
        if missing:
            vectors[missing] = self.embedder.encode([texts[i] for i in missing])
        for i, p in enumerate(parsed):
            if texts[i] is None:
                vectors[i] = p.query.vector
        cosines = np.empty((len(parsed), len(self._vectors.view())), dtype=np.float32)
        mapped = [self._maps(p) for p in parsed]
        for side, claims in ((False, self._vectors), (True, self._mapped)):
            chosen = [i for i, m in enumerate(mapped) if m == side]
            if chosen:
                # claims x items, then transposed: numpy's matvec path is several times
                # faster this way round than items x claims for a single post.
                cosines[chosen] = (claims.view() @ self._query_side(vectors[chosen], side).T).T
        return cosines

    def _english_cosines(
        self, parsed: Sequence[_Parsed], posts: np.ndarray, rows: np.ndarray
    ) -> np.ndarray | None:
        """The English encoder's cosine for each candidate (post, row) pair whose post has
        English text (its translation when it has one), 0 for the rest. It reads the whole
        text: a tweet's footer names who spoke, and without it CheckThat! dev MAP@5 fell
        0.914 -> 0.902."""
        if self.english is None:
            return None
        cosines = np.zeros(len(rows), dtype=np.float32)
        read = np.flatnonzero(np.array([p.english for p in parsed], dtype=bool)[posts])
        if not len(read):  # no English text, or no claim to read it against
            return cosines
        readers = np.unique(posts[read])
        vectors = self.english.encode(
            [parsed[i].query.translation or parsed[i].query.text for i in readers]
        )
        slot = np.zeros(len(parsed), dtype=np.intp)
        slot[readers] = np.arange(len(readers))
        claims = self._english_vectors(rows[read])
        # row by row, so that a pair scores the same in any batch
        products = (claims * vectors[slot[posts[read]]]).sum(axis=1)
        cosines[read] = np.maximum(products, 0.0)
        return cosines

    def _english_vectors(self, rows: np.ndarray) -> np.ndarray:
        """The claims' English vectors (one per row given), encoding those not made yet."""
        missing = [int(r) for r in np.unique(rows) if int(r) not in self._english_claims]
        if missing:
            vectors = self.english.encode([self._claims[r].text for r in missing])
            self._english_claims.update(zip(missing, vectors, strict=True))
        return np.stack([self._english_claims[int(r)] for r in rows])

    def _maps(self, item: _Parsed) -> bool:
        """Whether the item's cosines go through the vector map: it was fitted on English
        pairs, and across languages it cost the "crossling" model precision."""
        return self.vector_map is not None and item.english_vector

    def _query_side(self, vectors: np.ndarray, mapped: bool) -> np.ndarray:
        if not mapped:
            return vectors
        # One row at a time: a matrix product's rounding may depend on the batch's size,
        # and a post must score the same alone as in any batch.
        return np.concatenate([adapter.adapt(v[None], self.vector_map) for v in vectors])

    def _pairs(
        self, items: Sequence[_Parsed], cosines: np.ndarray | None
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Each item's candidate claim rows and their feature rows."""
        bm25, shared = self._terms.score_many([item.terms for item in items])
        signals = features.Signals(
            bm25=bm25,
            shared=shared,
            post_mass=np.array([self._terms.query_idf_mass(item.terms) for item in items]),
            cos=cosines,
            names=self._names.score_many([list(item.names) for item in items])[1],
            phrases=self._phrases.score_many([item.phrases for item in items])[1],
        )
        posts, rows = features.candidates(signals, self._terms.alive, CANDIDATES_PER_SIGNAL)
        matrix = features.matrix(
            signals,
            posts,
            rows,
            self._terms.doc_idf_mass(rows),
            self._names.doc_idf_mass(rows),
            self._phrases.doc_idf_mass(rows),
            self._english_cosines(items, posts, rows),
        )
        ends = np.searchsorted(posts, np.arange(1, len(items)))
        return np.split(rows, ends), np.split(matrix, ends)

    def _matches(
        self,
        item: _Parsed,
        rows: np.ndarray,
        matrix: np.ndarray,
        cosine: np.ndarray | None,
        k: int,
        floor: float,
    ) -> list[Match]:
        model = self._model(item)
        threshold = model.threshold if self.threshold is None else self.threshold
        probability = model.probability(matrix)
        order = np.argsort(-probability, kind="stable")[:k]
        order = order[probability[order] >= floor]
        if not len(order):
            return []
        post_text = " ".join(filter(None, (item.query.text, item.query.translation)))
        found = []
        for j in order:
            entry = self._claims[rows[j]]
            # Only the best claim may alert. A post usually carries one claim, and the
            # runner-up above the threshold was mostly wrong: a sibling claim of the same
            # story or a re-published copy. On the cross-lingual train split runners-up made
            # 4 wrong alerts for 1 right one; on CheckThat! dev, 21 wrong and none right.
            alert = bool(j == order[0] and probability[j] >= threshold)
            found.append(
                Match(
                    claim_id=entry.claim.id,
                    score=round(float(probability[j]), 4),
                    alert=alert,
                    stance=stance(post_text, entry.text, matched=alert),
                    reasons=reasons(
                        entry.terms,
                        entry.names,
                        item.terms,
                        item.names,
                        self._terms.idf,
                        cue=denial(post_text, entry.text),
                        cosine=None if cosine is None else float(cosine[rows[j]]),
                    ),
                )
            )
        return found

    def _model(self, item: _Parsed) -> Model:
        if self.embedder is None:
            return MODELS["lexical"]
        if not item.english:
            return MODELS["crossling"]
        return MODELS["full"] if self.english is not None else MODELS["full-use"]


def reads_as_english(text: str, lang: str) -> bool:
    """Whether the matcher takes a post's own text for English: detected so, or with no
    Cyrillic letter (Latin-script chatter is scored like English, not across languages)."""
    return lang == "en" or not _CYRILLIC.search(text)


def claim_text(claim: Claim) -> str:
    """What a claim is indexed and embedded as."""
    return f"{claim.title}. {claim.text}" if claim.title else claim.text


def _bigrams(words: list[str]) -> list[str]:
    """Adjacent term pairs: a shared phrase ("presidential seal") beats two shared words."""
    return [f"{a} {b}" for a, b in pairwise(words)]


class _Bridge:
    """Claims' English terms by a key an untranslated post can compute from its own words.

    Within one language a shared word counts in the lexical features (BM25, coverage), but
    a Russian post's Собянин shares no word with a claim's Sobyanin, nor its астероид with
    the claim's asteroid. Given the claim's term for each key, an untranslated post's
    words count there as they would in English. Two keys:
    - names (`translit.name_key`, consonant skeletons): a post's capitalised word takes a
      claim's term when it meets one of the claim name's keys (`translit.probes`), the same
      rule as the names feature and the explanations. With the "crossling" model refitted
      (session 6), alert precision 0.824 -> 0.891 and recall 0.700 -> 0.613 on the
      cross-lingual check set's dev half, 0.929 -> 1.000 and 0.650 -> 0.583 on the held-out
      set.
    - cognates (`translit.cognate_key`, letters with vowels): a post's stem the glossary
      does not know takes a claim's term whose key equals its own, or runs a few letters
      past it or short of it (система / system, атмосферу / atmosphere, президента /
      president).
    """

    def __init__(self) -> None:
        self._terms: dict[str, Counter[str]] = {}  # key -> claim terms indexed under it

    def add(self, entries: list[tuple[str, str]]) -> None:
        """Index a claim's (key, term) pairs (`name_entries`, `cognate_entries`)."""
        for key, term in entries:
            self._terms.setdefault(key, Counter())[term] += 1

    def remove(self, entries: list[tuple[str, str]]) -> None:
        for key, term in entries:
            held = self._terms[key]
            held[term] -= 1
            if not held[term]:
                del held[term]
                if not held:
                    del self._terms[key]

    def terms_for(self, probes: Iterable[str]) -> list[str]:
        """The claims' terms under the keys a post's words probe."""
        return [term for key in probes for term in self._terms.get(key, ())]


class _CognateBridge(_Bridge):
    """The cognates' bridge, remembering each post stem's claim terms until the claims
    change: a post's stems are mostly stems met before. Rare stems still miss (about 2 a
    ru-news post), and the bridge costs about 30 µs a post."""

    def __init__(self) -> None:
        super().__init__()
        # ~1.6 MB; the least recently met stems go first
        self._for_stem = lru_cache(maxsize=16_384)(self._stem_terms)

    def add(self, entries: list[tuple[str, str]]) -> None:
        super().add(entries)
        self._for_stem.cache_clear()

    def remove(self, entries: list[tuple[str, str]]) -> None:
        super().remove(entries)
        self._for_stem.cache_clear()

    def terms_for_post(self, post_terms: Iterable[str]) -> list[str]:
        """The claims' terms whose cognate keys a post's stems meet."""
        for_stem = self._for_stem
        return [claim_term for term in set(post_terms) for claim_term in for_stem(term)]

    def _stem_terms(self, term: str) -> tuple[str, ...]:
        """Claim terms for one post stem; none for a short or Latin stem, or one the
        glossary bridges already."""
        if len(term) < MIN_COGNATE - 1 or not _CYRILLIC.match(term) or english_term(term):
            return ()
        return tuple(self.terms_for(cognate_probes(term)))


def name_entries(names: list[tuple[str, SurfaceKeys]], lang: str) -> list[tuple[str, str]]:
    """A claim's (name key, term) pairs, from its `capitalised_names`."""
    return [
        (key, term)
        for surface, groups in names
        for term in terms(surface, lang)
        for keys in groups
        for key in keys
    ]


def name_probes(names: list[tuple[str, SurfaceKeys]]) -> Iterator[str]:
    """The keys a post's `capitalised_names` meet."""
    return (key for _, groups in names for keys in groups for key in probes(keys))


def cognate_entries(claim_terms: Iterable[str]) -> list[tuple[str, str]]:
    """An English claim's (cognate key, term) pairs, one term once."""
    return [
        (key, term)
        for term in dict.fromkeys(claim_terms)
        if not _CYRILLIC.search(term)
        for key in cognate_index_keys(term)
    ]
