"""Accuracy and speed of monitors.language.detect next to plain langdetect.

usage: python benchmarks/bench_lang.py DIR [--limit N] [--export DIR]
       python benchmarks/bench_lang.py --scripts

DIR holds LANG.txt files, one text a line. Each line is scored whole ("sent") and as two-word
snippets cut from it: two consecutive words of three letters or more ("snip", what a two-word
post looks like: "Работает ПВО", not "на реке"), any two consecutive words ("pair") and one
word of three letters or more, lower-cased as in a word list ("word"; "und" counts as a miss,
and "wrong_word" is the share answered with another language). The position comes from a hash
of the line, so every run cuts the same words. With
--export, the texts of a Telegram Desktop export tree (result.json files) are detected too and
the share of each language is printed: on a one-language corpus that share is the accuracy.
The last line holds the figures as key=value pairs, with the detector's load time and the
memory it takes (growth of the process's peak RSS while it loads).

With --scripts, one post in each script besides Latin and Cyrillic is detected in a fresh
process, and the resident memory it adds to a loaded detector is printed (the first post of a
script loads that script's profiles).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from monitors.language import LanguageDetector

_WORD = re.compile(r"^\W*[^\W\d_]+(?:[-'’][^\W\d_]+)*\W*$")
_PUNCTUATION = re.compile(r"^\W+|\W+$")

Detect = Callable[[str], str]


def load(directory: Path, limit: int | None) -> dict[str, list[str]]:
    texts = {}
    for path in sorted(directory.glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        texts[path.stem] = [line for line in lines if line][:limit]
    return texts


def snippet(line: str, min_letters: int = 3, size: int = 2) -> str:
    """`size` consecutive words of at least min_letters letters, where the line's hash says."""
    words = line.split()
    runs = [
        words[i : i + size]
        for i in range(len(words) - size + 1)
        if all(
            _WORD.match(word) and sum(map(str.isalpha, word)) >= min_letters
            for word in words[i : i + size]
        )
    ]
    if not runs:
        return ""
    return " ".join(runs[zlib.crc32(line.encode()) % len(runs)])


CUTS = ("sent", "snip", "pair", "word")


def cuts(lines: list[str]) -> dict[str, list[str]]:
    """The lines whole, as content-word snippets, any-word pairs and single words (lines too
    short for a cut are left out of it)."""
    snips = [snippet(line) for line in lines]
    pairs = [snippet(line, min_letters=1) for line in lines]
    words = [_PUNCTUATION.sub("", snippet(line, size=1)).lower() for line in lines]
    return {
        "sent": lines,
        "snip": [text for text in snips if text],
        "pair": [text for text in pairs if text],
        "word": [text for text in words if text],
    }


def plain_langdetect() -> Detect:
    """langdetect as most code uses it: every profile, seeded, default settings."""
    factory = DetectorFactory()
    factory.set_seed(0)
    factory.load_profile(PROFILES_DIRECTORY)

    def detect(text: str) -> str:
        detector = factory.create()
        detector.append(text)
        try:
            return detector.detect()
        except LangDetectException:
            return "und"

    return detect


def timed(detect: Detect, texts: list[str]) -> tuple[list[str], float]:
    """Answers and mean microseconds per text."""
    start = time.perf_counter()
    answers = [detect(text) for text in texts]
    return answers, (time.perf_counter() - start) / max(len(texts), 1) * 1e6


def export_texts(directory: Path) -> Iterator[str]:
    """Message texts of every result.json under directory (text may be a list of parts)."""
    for path in sorted(directory.rglob("result.json")):
        for message in json.loads(path.read_text(encoding="utf-8")).get("messages", []):
            text = message.get("text", "")
            if isinstance(text, list):
                text = "".join(part if isinstance(part, str) else part["text"] for part in text)
            if text.strip():
                yield text


def score_lines(directory: Path, limit: int | None) -> dict[str, float]:
    """Accuracy per language and cut, ours next to plain langdetect, and mean µs per text."""
    before = _peak_rss_mb()
    start = time.perf_counter()
    ours = LanguageDetector(cache_size=0).detect  # no cache: every text pays full price
    figures: dict[str, float] = {"load_s": time.perf_counter() - start}
    figures["detector_rss_mb"] = _peak_rss_mb() - before
    plain = plain_langdetect()
    spent = {"": 0.0, "plain_": 0.0}
    count = 0
    print(f"{'lang':<5}{'n':>5}" + "".join(f"{cut:>7}{'plain':>7}" for cut in CUTS))
    for lang, lines in load(directory, limit).items():
        row = []
        for cut, texts in cuts(lines).items():
            for name, detect in (("", ours), ("plain_", plain)):
                answers, mean_us = timed(detect, texts)
                row.append(sum(answer == lang for answer in answers) / len(texts))
                figures[f"{name}{cut}_{lang}"] = row[-1]
                if cut == "word" and not name:
                    wrong = sum(answer not in (lang, "und") for answer in answers)
                    figures[f"wrong_word_{lang}"] = wrong / len(texts)
                spent[name] += mean_us * len(texts)
            count += len(texts)
        print(f"{lang:<5}{len(lines):>5}" + "".join(f"{accuracy:>7.1%}" for accuracy in row))
    figures["us_per_text"] = spent[""] / count
    figures["plain_us_per_text"] = spent["plain_"] / count
    figures["peak_rss_mb"] = _peak_rss_mb()  # the whole process, plain langdetect included
    return figures


def score_export(directory: Path) -> dict[str, float]:
    """Share of each answer over an export's texts, and mean µs per text."""
    texts = list(export_texts(directory))
    answers, mean_us = timed(LanguageDetector(cache_size=0).detect, texts)
    shares = Counter(answers)
    top = ", ".join(f"{lang} {n / len(texts):.2%}" for lang, n in shares.most_common(6))
    print(f"export: {len(texts)} texts, {mean_us:.0f} us/text: {top}")
    return {
        "export_texts": len(texts),
        "export_us_per_text": mean_us,
        "export_ru": shares["ru"] / len(texts),
        "export_und": shares["und"] / len(texts),
    }


# One post a script, written for this benchmark.
SCRIPT_POSTS = {
    "ar": "قالت وزارة الصحة إن المستشفى استقبل عشرات الجرحى خلال الليل.",
    "he": "משרד הבריאות מסר כי בית החולים קלט עשרות פצועים במהלך הלילה.",
    "zh": "卫生部表示，医院在夜间接收了数十名伤员。",
    "ja": "保健省によると、病院は夜の間に数十人の負傷者を受け入れた。",
    "ko": "보건부는 병원이 밤사이 부상자 수십 명을 받았다고 밝혔다.",
    "el": "Το υπουργείο Υγείας ανέφερε ότι το νοσοκομείο δέχτηκε δεκάδες τραυματίες.",
    "hi": "स्वास्थ्य मंत्रालय ने कहा कि अस्पताल में रात भर दर्जनों घायल लाए गए।",
    "th": "กระทรวงสาธารณสุขระบุว่าโรงพยาบาลรับผู้บาดเจ็บหลายสิบคนในคืนที่ผ่านมา",
    "ka": "ჯანდაცვის სამინისტროს ცნობით, საავადმყოფომ ღამით ათობით დაჭრილი მიიღო.",
}


def script_memory() -> None:
    """Per script, in a fresh process each: the answer and the resident memory it adds."""
    for lang in SCRIPT_POSTS:
        subprocess.run([sys.executable, __file__, "--script-post", lang], check=True)


def _one_script_post(lang: str) -> None:
    detector = LanguageDetector()
    detector.detect("Воздушная тревога в Киевской области")  # a warm detector, as in service
    before = _rss_mb()
    answer = detector.detect(SCRIPT_POSTS[lang])
    print(f"script={lang} answer={answer} rss_mb={before:.1f} added_mb={_rss_mb() - before:.1f}")


def _rss_mb() -> float:
    """Resident memory now (Linux), not the peak: what the service keeps."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _figure(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, nargs="?")
    parser.add_argument("--limit", type=int, default=None, help="lines per language")
    parser.add_argument("--export", type=Path, help="Telegram export tree to detect too")
    parser.add_argument("--scripts", action="store_true", help="memory of a post per script")
    parser.add_argument("--script-post", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.script_post:
        return _one_script_post(args.script_post)
    if args.scripts:
        return script_memory()
    if args.dir is None:
        parser.error("DIR is required without --scripts")
    figures = score_lines(args.dir, args.limit)
    if args.export:
        figures |= score_export(args.export)
    print(" ".join(f"{key}={_figure(value)}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
