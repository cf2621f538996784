"""Text folding for dedup and consonant skeletons (monitors.textnorm)."""

import pytest

from monitors.textnorm import content_lines, has_skeleton, normalize, skeleton


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        # Links in any case, and the long s that case-insensitive matching also accepts.
        ("Смотри HTTPS://T.ME/Chan/5 и httpſ://x.y/z сейчас", "смотри и сейчас"),
        ("__Жирный__ текст_с_подчёркиванием", "жирный текст с подчеркиванием"),
        # Links are cut first, so a mention glued to one loses its tail with it.
        ("@abchttps://x.ru/1 итог", "итог"),
        ("ΟΔΟΣ Σ", "οδος σ"),
    ],
)
def test_normalize(raw, folded):
    assert normalize(raw) == folded
    assert content_lines(raw) == [folded]


def test_content_lines_split_on_every_line_break_and_drop_tag_lines():
    assert content_lines("раз\u2028два\r\nтри\x1cчетыре") == ["раз", "два", "три", "четыре"]
    text = "Первая строка!\n#срочно @chan, https://t.me/x\n\n  ***  \nВторая — строка"
    assert content_lines(text) == ["первая строка", "вторая строка"]
    assert normalize(text) == "первая строка срочно вторая строка"


def test_a_long_line_of_tags_that_ends_in_a_word_is_kept_at_once():
    # Each tag had doubled the time the tag-line pattern took to give up (24 tags: 14 s).
    line = " ".join(f"#news{i}" for i in range(60)) + " — read more!"
    assert content_lines(line)[0].endswith("news59 read more")
    assert content_lines("#tag  " * 60 + "!") == [" ".join(["tag"] * 60)]


def test_skeletons_of_cognates_coincide_and_numbers_are_kept_whole():
    assert skeleton("харьков харків") == {"гркф"}
    # The Ukrainian apostrophe goes with the vowels; a skeleton keeps five letters.
    assert skeleton("пʼятниця здравствуйте") == {"птнц", "стрфс"}
    # Only whole numbers are numbers: a word reduced to digits is a skeleton like others.
    assert skeleton("й1 123 1234567 ый1234567 ае") == {"123", "1234567", "12345"}


def test_skeleton_of_text_outside_cp1251_folds_the_same():
    assert skeleton("škoda харків") == {"škoda", "гркф"}
    assert skeleton("харків") == skeleton("харків škoda") - {"škoda"}


def test_skeletons_are_interned():
    (a,) = skeleton("харків")
    (b,) = skeleton("".join(["харь", "ков"]))
    assert a is b


@pytest.mark.parametrize(
    "text",
    ["аа оу 1а", "аа оу 1", "ааб оувв 1а", "ааб оувв д1а", "ыы²", "²", "пʼять", "пʼятка", ""],
)
def test_has_skeleton_says_whether_skeleton_is_empty(text):
    assert has_skeleton(text) == bool(skeleton(text))
