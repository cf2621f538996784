"""Posts in scripts other than Latin and Cyrillic: the script decides which profiles load."""

from __future__ import annotations

import pytest

from monitors import language
from monitors.language import LanguageDetector

# Written for these tests: a shell falls near a power station and a district loses power.
SENTENCES = {
    "ar": "سقطت قذيفة قرب محطة الكهرباء وانقطع التيار عن الحي.",
    "fa": "یک موشک در نزدیکی نیروگاه فرود آمد و برق محله قطع شد.",
    "ur": "بجلی گھر کے قریب ایک گولہ گرا اور پورے محلے کی بجلی چلی گئی۔",
    "he": "פגז נפל ליד תחנת הכוח והחשמל בשכונה נותק.",
    "zh": "一枚炮弹落在发电站附近，整个街区停电了。",
    "ja": "発電所の近くに砲弾が落ち、地区全体が停電した。",
    "ko": "포탄이 발전소 근처에 떨어져 동네 전체가 정전되었다.",
    "el": "Ένα βλήμα έπεσε κοντά στον σταθμό και η γειτονιά έμεινε χωρίς ρεύμα.",
    "hi": "बिजलीघर के पास एक गोला गिरा और पूरे मोहल्ले की बिजली चली गई।",
    "th": "กระสุนปืนใหญ่ตกใกล้โรงไฟฟ้าและทั้งย่านไฟดับ",
}


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.mark.parametrize(("lang", "text"), SENTENCES.items())
def test_sentences_in_other_scripts(detector: LanguageDetector, lang: str, text: str) -> None:
    assert detector.detect(text) == lang


def test_chinese_runs_its_words_together(detector: LanguageDetector) -> None:
    assert detector.detect("政府今天宣布了新的制裁措施") == "zh"  # one "word" between spaces
    assert detector.detect("停电") == "und"  # one word, like any lone word


@pytest.mark.parametrize(
    "text",
    [
        "ჯარისკაცებმა ხიდი დილით გადაკეტეს.",  # Georgian: langdetect has no profile
        "Զինվորները առավոտյան փակեցին կամուրջը։",  # Armenian: none either
        "שלום",  # one word
        "كهرباء",
    ],
)
def test_no_profile_or_one_word_is_und(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) == "und"


def test_a_script_loads_only_its_own_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    detector = LanguageDetector()
    loaded: list[str] = []
    released: list[bool] = []
    read_profile = language._profile

    def recorded(name: str) -> dict:
        loaded.append(name)
        return read_profile(name)

    monkeypatch.setattr(language, "_profile", recorded)
    monkeypatch.setattr(language, "release_free_memory", lambda: released.append(True))
    assert detector.detect("Посол сказал «شكرا جزيلا» и уехал") == "ru"
    assert loaded == []  # a quote in Arabic script inside a Russian post
    assert detector.detect(SENTENCES["ar"]) == "ar"
    assert loaded == ["ar", "fa", "ur"] and released == [True]
    assert detector.detect("انقطع التيار مرة أخرى في المساء") == "ar"
    assert detector.detect(SENTENCES["he"]) == "he"  # one profile: nothing to choose between
    assert detector.detect(SENTENCES["ko"]) == "ko"
    assert loaded == ["ar", "fa", "ur"] and released == [True]
