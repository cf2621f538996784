"""The incremental BM25 index (monitors.matching.bm25)."""

import numpy as np
import pytest

from monitors.matching.bm25 import Bm25Index


@pytest.fixture
def index():
    ix = Bm25Index()
    for doc in (["drone", "attack", "depot"], ["drone", "parade"], ["hostag", "bryansk"]):
        ix.add(doc)
    return ix


def test_rare_shared_terms_rank_first(index):
    scores, shared = index.score(["hostag", "drone"])
    assert int(np.argmax(scores)) == 2
    assert shared[2] == pytest.approx(index.idf("hostag"))
    assert index.idf("hostag") > index.idf("drone") > 0
    assert index.idf("unknown") == 0.0


def test_added_document_is_searchable_at_once(index):
    assert index.score(["sevastopol"])[0].max() == 0
    row = index.add(["sevastopol", "depot"])
    scores, _ = index.score(["sevastopol"])
    assert int(np.argmax(scores)) == row == 3


def test_removed_document_scores_zero_and_leaves_statistics(index):
    before = index.idf("drone")
    index.remove(0)
    scores, shared = index.score(["drone", "depot"])
    assert scores[0] == 0 and shared[0] == 0
    assert index.idf("depot") == 0.0
    assert index.idf("drone") > before  # now in 1 of 2 live documents
    index.remove(0)  # twice is harmless
    assert index.alive.tolist() == [False, True, True]


def test_doc_idf_mass_follows_collection_changes(index):
    def expected():
        return pytest.approx(index.idf("hostag") + index.idf("bryansk"))

    assert index.doc_idf_mass(np.array([2]))[0] == expected()
    hostage_idf = index.idf("hostag")
    for _ in range(70):  # grows past the initial capacity, and "hostag" gets common
        index.add(["hostag", "filler"])
    assert index.idf("hostag") < hostage_idf
    assert index.doc_idf_mass(np.array([2]))[0] == expected()


def test_unseen_query_terms_weigh_as_rare_terms(index):
    festival, hostage = (index.query_idf_mass([term]) for term in ("festival", "hostag"))
    assert festival > hostage == index.idf("hostag")
    assert index.idf("festival") == 0.0


def test_an_index_of_empty_documents_scores_nothing():
    index = Bm25Index()
    index.add([])
    scores, shared = index.score(["bryansk"])
    assert scores.tolist() == [0.0] and shared.tolist() == [0.0]


def test_scores_after_additions_and_removals_equal_a_fresh_index():
    docs = [["drone", "attack", "depot"], ["drone", "parade"], ["hostag", "bryansk", "bryansk"]]
    grown = Bm25Index()
    grown.add(docs[0])
    grown.score(["drone"])  # statistics worked out for one document...
    grown.add(docs[1])
    gone = grown.add(["drone", "drone", "drone", "strike", "kursk"])
    grown.score(["drone"])  # ...and again for three
    grown.remove(gone)
    grown.add(docs[2])
    fresh = Bm25Index()
    for doc in docs:
        fresh.add(doc)
    query = ["drone", "bryansk", "depot"]
    scores, shared = grown.score(query)
    expected_scores, expected_shared = fresh.score(query)
    assert scores[gone] == 0 and shared[gone] == 0
    np.testing.assert_allclose(np.delete(scores, gone), expected_scores, rtol=1e-6)
    np.testing.assert_allclose(np.delete(shared, gone), expected_shared, rtol=1e-6)


def test_scores_follow_the_collection_after_adds_and_removals(index):
    """Posting weights are kept between queries; a change of the collection renews them."""
    index.score(["drone", "depot"])  # fills the kept weights
    index.add(["drone", "depot", "depot", "kherson"])
    index.remove(1)
    fresh = Bm25Index()
    for doc in (["drone", "attack", "depot"], ["drone", "parade"], ["hostag", "bryansk"]):
        fresh.add(doc)
    fresh.add(["drone", "depot", "depot", "kherson"])
    fresh.remove(1)
    got, want = index.score(["drone", "depot"]), fresh.score(["drone", "depot"])
    for got_array, want_array in zip(got, want, strict=True):
        np.testing.assert_array_equal(got_array, want_array)


def test_idf_mass_of_a_query_counts_unseen_terms_as_rarest(index):
    terms = ["drone", "festival", "hostag", "drone"]
    assert index.query_idf_mass(terms) == sum(index.query_idf_mass([t]) for t in terms)
    assert index.query_idf_mass([]) == 0.0


def test_a_batch_of_queries_scores_each_as_alone(index):
    index.remove(0)
    queries = [["drone", "depot"], ["hostag"], ["unknown"]]
    scores, shared = index.score_many(queries)
    for query, row_scores, row_shared in zip(queries, scores, shared, strict=True):
        alone = Bm25Index()
        for doc in (["drone", "attack", "depot"], ["drone", "parade"], ["hostag", "bryansk"]):
            alone.add(doc)
        alone.remove(0)
        np.testing.assert_array_equal(row_scores, alone.score(query)[0])
        np.testing.assert_array_equal(row_shared, alone.score(query)[1])
    assert scores[2].max() == 0 and scores[0][0] == 0  # unknown term; removed row
