"""Word counting: one rule for the parser's word_count and the enrich stage's minimum length."""

# ruff: noqa: RUF001 - Chinese and Japanese text is written with full-width punctuation

from __future__ import annotations

from typing import Any

import pytest

from newsflow import extraction
from newsflow.enrichment.base import unsupported
from newsflow.errors import Reason
from newsflow.models import Enrichment, EnrichMessage, ExtractorInfo, ParsedArticle
from newsflow.pipeline import EnrichStage, Outcome
from newsflow.settings import EnrichSettings
from newsflow.text import count_words

# Paragraphs segmented by hand ("|" between words); the text joins the pieces without "|".
SEGMENTED = {
    "en": (
        "The|harbour|committee|met|on|Thursday|to|agree|the|winter|timetable|for|the|island|"
        "ferry,|which|will|run|four|crossings|a|day|instead|of|six|from|November."
    ),
    "ja": (
        "東京都|議会は|水曜日、|湾岸|地域を|結ぶ|新しい|路面|電車の|延伸|計画を|賛成|多数で|可決|"
        "した。|総|事業費は|およそ|四百|億|円で、|二〇三〇|年の|開業を|目指す。|沿線の|住民|からは|"
        "通勤が|便利に|なる|との|期待の|声が|上がる|一方、|工事|中の|騒音や|交通|渋滞を|心配|する|"
        "意見も|出て|いる。"
    ),
    "zh": (
        "市议会|周三|以|多数|票|通过|了|有轨电车|延长线|的|建设|计划，|总|投资|约|四十|亿|元，|预计|"
        "二〇三〇年|通车。|沿线|居民|普遍|表示|欢迎，|但|也|有人|担心|施工|期间|的|噪音|和|交通|拥堵。"
    ),
    "th": (
        "กรุงเทพมหานคร|เป็น|เมืองหลวง|และ|นคร|ที่|มี|ประชากร|มาก|ที่สุด|ของ|ประเทศ|ไทย|เป็น|ศูนย์กลาง|"
        "การ|ปกครอง|การ|ศึกษา|การ|คมนาคม|ขนส่ง|การ|เงิน|การ|ธนาคาร|การ|พาณิชย์|การ|สื่อสาร|และ|ความ|"
        "เจริญ|ของ|ประเทศ| |คณะ|กรรมการ|การ|เลือกตั้ง|ประกาศ|ผล|การ|นับ|คะแนน|อย่าง|เป็น|ทางการ|เมื่อ|"
        "วัน|พุธ|ที่|ผ่าน|มา|โดย|มี|ผู้|มา|ใช้|สิทธิ์|เลือกตั้ง|มากกว่า|ร้อยละ|เจ็ดสิบ|ของ|ผู้|มี|สิทธิ์|ทั้งหมด"
    ),
    "lo": "ປະເທດ|ລາວ|ມີ|ນະຄອນຫຼວງ|ວຽງຈັນ|ແລະ|ເປັນ|ປະເທດ|ທີ່|ບໍ່|ມີ|ທາງ|ອອກ|ສູ່|ທະເລ",
    "km": "ប្រទេស|កម្ពុជា|មាន|រាជធានី|ភ្នំពេញ|ហើយ|ជា|ប្រទេស|មួយ|នៅ|អាស៊ី|អាគ្នេយ៍",
    "my": "မြန်မာ|နိုင်ငံ|သည်|အရှေ့တောင်|အာရှ|တွင်|တည်ရှိ|သော|နိုင်ငံ|တစ်|ခု|ဖြစ်|သည်",
}


def _paragraph(language: str) -> tuple[str, int]:
    """The paragraph's text (English keeps its spaces) and its hand-counted words."""
    pieces = SEGMENTED[language].split("|")
    text = (" " if language == "en" else "").join(pieces)
    return text, sum(1 for piece in pieces if piece.strip())


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("The council voted on Wednesday.", 5),
        ("Don't stop the tram\u2019s 2.4-kilometre extension", 7),  # 2 . 4-kilometre -> 2 words
        ("Ça va très bien, merci !", 5),
        ("Straße \u2013 Brücke \u2014 Köln", 3),
        ("市議会は水曜日", 7),  # unspaced script: one word per character
        ("東京・大阪「ニュース」。", 8),  # Japanese punctuation is no word
        ("Городской совет одобрил", 3),
        ("서울시 의회는 수요일에 회의를 열었다", 5),  # Korean is written with spaces
        ("  \n… — !! ", 0),
        ("", 0),
    ],
)
def test_count_words(text: str, words: int) -> None:
    # GIVEN a text in some script WHEN its words are counted THEN punctuation is not a word
    assert count_words(text) == words


def test_the_parser_counts_with_the_same_rule() -> None:
    # GIVEN the name the parser module has always offered WHEN imported THEN it is this rule
    assert extraction.count_words is count_words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("हिन्दी भाषा में समाचार", 4),  # Devanagari vowel signs and virama
        ("مَدْرَسَةٌ كَبِيرَةٌ", 2),  # Arabic with vowel points
        ("ภาษา", 1),  # a Thai word with a combining vowel is one word, not two
    ],
)
def test_combining_marks_do_not_split_words(text: str, words: int) -> None:
    # GIVEN words whose letters carry combining marks (categories Mn/Mc)
    # WHEN counted THEN each word counts once (a mark used to end the word and start another)
    assert count_words(text) == words


def test_english_paragraph_counts_its_words() -> None:
    # GIVEN an English paragraph WHEN counted THEN every space-separated word counts once
    text, words = _paragraph("en")
    assert count_words(text) == words


@pytest.mark.parametrize("language", ["ja", "zh"])
def test_chinese_and_japanese_count_one_word_per_character(language: str) -> None:
    # GIVEN a Japanese or Chinese news paragraph, written without spaces
    text, words = _paragraph(language)
    # WHEN counted THEN at least the segmented words and at most a generous multiple of them
    assert words <= count_words(text) <= 3 * words


@pytest.mark.parametrize("language", ["th", "lo", "km", "my"])
def test_scripts_without_spaces_count_close_to_a_segmenter(language: str) -> None:
    # GIVEN a Thai, Lao, Khmer or Myanmar paragraph (no spaces between words)
    text, words = _paragraph(language)
    # WHEN counted THEN the estimate is within a third of the hand-segmented count
    assert 2 * words / 3 <= count_words(text) <= 4 * words / 3


# ------------------------------------------------------------------ the enrich stage threshold

MIN_WORDS = EnrichSettings.model_fields["MIN_WORDS"].default
ARTICLE_ID = "ab" * 32


class _Documents:
    bucket = "articles"

    def __init__(self, document: ParsedArticle) -> None:
        self.document = document

    def get_parsed(self, key: str) -> ParsedArticle:
        return self.document

    def put_json(self, key: str, payload: Any) -> None:
        self.stored = payload


class _Table:
    def __init__(self) -> None:
        self.failed: list[dict[str, Any]] = []
        self.enriched: list[Any] = []

    def get(self, article_id: str) -> None:
        return None

    def save_failed(self, **item: Any) -> None:
        self.failed.append(item)

    def save_enriched(self, article: Any, **item: Any) -> None:
        self.enriched.append(article)


class _UnsupportedEnricher:
    """Answers "language not supported": reaching it proves the length check passed."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def enrich(self, text: str, language: str | None = None) -> Enrichment:
        self.texts.append(text)
        return unsupported("fake", "fake-1")


def _enrich(text: str, language: str) -> tuple[Any, _UnsupportedEnricher]:
    document = ParsedArticle(
        article_id=ARTICLE_ID,
        language=language,
        text=text,
        word_count=count_words(text),
        extractor=ExtractorInfo(version="0"),
    )
    enricher = _UnsupportedEnricher()
    stage = EnrichStage(
        enricher=enricher,
        documents=_Documents(document),  # type: ignore[arg-type]
        table=_Table(),  # type: ignore[arg-type]
        min_words=MIN_WORDS,
    )
    message = EnrichMessage(article_id=ARTICLE_ID, bucket="articles", key="parsed/doc.json")
    return stage.run(message), enricher


@pytest.mark.parametrize("language", ["ja", "zh", "th"])
def test_enrich_stage_accepts_a_long_article_without_spaces(language: str) -> None:
    # GIVEN a parsed news paragraph in a language written without spaces
    text, _ = _paragraph(language)
    # WHEN the enrich stage checks its length
    result, enricher = _enrich(text, language)
    # THEN it is not too short: the text reaches the enricher
    assert enricher.texts == [text]
    assert result.failure is None or result.failure.reason is not Reason.TEXT_TOO_SHORT


def test_enrich_stage_still_refuses_a_short_japanese_text() -> None:
    # GIVEN a Japanese headline-length text, shorter than the minimum
    text = "東京で会議。"
    assert count_words(text) < MIN_WORDS
    # WHEN enriched THEN it fails as too short and the enricher is never asked
    result, enricher = _enrich(text, "ja")
    assert result.outcome is Outcome.FAILED
    assert result.failure is not None and result.failure.reason is Reason.TEXT_TOO_SHORT
    assert enricher.texts == []
