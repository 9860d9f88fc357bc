"""Backend ``auto``: local model for English, Comprehend (stubbed) for its languages, none else."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from newsflow.enrichment import Enricher, get_enricher
from newsflow.enrichment.base import analysis_result
from newsflow.enrichment.comprehend import SUPPORTED_LANGUAGES, ComprehendEnricher
from newsflow.enrichment.routing import RoutingEnricher
from newsflow.models import Enrichment
from newsflow.settings import EnrichSettings

# One short news sentence per language Comprehend analyses for entities and sentiment.
SAMPLES: dict[str, tuple[str, str]] = {
    "es": ("El alcalde de Madrid inauguró ayer el nuevo puente sobre el río.", "Madrid"),
    "fr": ("Le maire de Lyon a inauguré hier le nouveau pont sur le Rhône.", "Lyon"),
    "de": ("Der Bürgermeister von Hamburg hat gestern die neue Brücke eröffnet.", "Hamburg"),
    "it": ("Il sindaco di Torino ha inaugurato ieri il nuovo ponte sul fiume.", "Torino"),
    "pt": ("O prefeito de Lisboa inaugurou ontem a nova ponte sobre o rio.", "Lisboa"),
    "ar": ("افتتح رئيس بلدية القاهرة أمس الجسر الجديد فوق النهر.", "القاهرة"),
    "hi": ("दिल्ली के महापौर ने कल नदी पर नए पुल का उद्घाटन किया।", "दिल्ली"),
    "ja": ("大阪市長は昨日、川に架かる新しい橋を開通させた。", "大阪"),
    "ko": ("부산 시장은 어제 강 위의 새 다리를 개통했다.", "부산"),
    "zh": ("上海市长昨天为河上的新桥举行了通车仪式。", "上海"),
    "zh-TW": ("臺北市長昨天為河上的新橋舉行了通車儀式。", "臺北"),
}
POSITIVE = {"Positive": 0.9, "Negative": 0.05, "Neutral": 0.05, "Mixed": 0.0}


class RecordingLocal:
    """Stands in for the spaCy model: records what it was given."""

    backend = "local"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.model = "fake-local"

    def enrich(self, text: str, language: str | None = None) -> Enrichment:
        self.calls.append((text, language))
        return analysis_result(self.backend, self.model, text, [], [])


@pytest.fixture
def local() -> RecordingLocal:
    return RecordingLocal()


@pytest.fixture
def router(client: Any, local: RecordingLocal) -> RoutingEnricher:
    return RoutingEnricher(local=lambda: local, comprehend=lambda: ComprehendEnricher(client))


def expect_comprehend(stubber: Stubber, text: str, name: str, language: str) -> None:
    start = text.index(name)
    entity = {"Score": 0.99, "Type": "LOCATION", "Text": name, "BeginOffset": start}
    entity["EndOffset"] = start + len(name)
    stubber.add_response(
        "batch_detect_entities",
        {"ResultList": [{"Index": 0, "Entities": [entity]}], "ErrorList": []},
        {"TextList": ANY, "LanguageCode": language},
    )
    stubber.add_response(
        "batch_detect_sentiment",
        {
            "ResultList": [{"Index": 0, "Sentiment": "POSITIVE", "SentimentScore": POSITIVE}],
            "ErrorList": [],
        },
        {"TextList": ANY, "LanguageCode": language},
    )


def test_every_language_comprehend_documents_except_english_is_routed_there() -> None:
    # The sample covers the documented list; English alone stays on the local model.
    assert set(SAMPLES) == SUPPORTED_LANGUAGES - {"en"}


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_a_comprehend_language_goes_to_comprehend_with_its_code(
    router: RoutingEnricher, stubber: Stubber, local: RecordingLocal, language: str
) -> None:
    # GIVEN a text in a language Comprehend analyses (stubbed: both calls must carry its code)
    text, name = SAMPLES[language]
    expect_comprehend(stubber, text, name, language)

    # WHEN auto enriches it
    result = router.enrich(text, language)

    # THEN Comprehend analysed it: its entity and sentiment, the local model untouched
    assert result.enrichment.backend == "comprehend"
    assert result.enrichment.language_supported is True
    assert [(e.text, e.type) for e in result.entities] == [(name, "LOCATION")]
    assert result.sentiment is not None and result.sentiment.label == "POSITIVE"
    assert local.calls == []


@pytest.mark.parametrize("language", ["en", None])
def test_english_and_undecidable_text_go_to_the_local_model(
    router: RoutingEnricher, stubber: Stubber, local: RecordingLocal, language: str | None
) -> None:
    # GIVEN English (or a text too short to tell, with no hint)
    text = "The mayor of Leeds opened the new bridge." if language else "Leeds wins."

    # WHEN auto enriches it, THEN the local model does, and Comprehend is never called
    result = router.enrich(text, language)
    assert result.enrichment.backend == "local"
    assert local.calls == [(text, language)]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Мэр Москвы вчера открыл новый мост через реку, сообщили в мэрии города.", "ru"),
        ("Borgmästaren i Malmö öppnade i går den nya bron över ån, meddelade kommunen.", "sv"),
    ],
)
def test_a_language_no_backend_has_is_returned_unanalysed_with_the_reason(
    router: RoutingEnricher,
    stubber: Stubber,
    local: RecordingLocal,
    text: str,
    language: str,
) -> None:
    # WHEN auto is given a language neither backend analyses
    result = router.enrich(text, language)

    # THEN nothing is called, and the result is empty, unsupported, with a reason naming it
    assert local.calls == []
    assert result.entities == [] and result.sentiment is None
    info = result.enrichment
    assert (info.backend, info.language_supported) == ("auto", False)
    assert info.reason is not None and repr(language) in info.reason


def test_the_language_is_detected_when_the_document_has_none(
    router: RoutingEnricher, stubber: Stubber
) -> None:
    # GIVEN a Spanish text without a language hint
    text = (
        "El gobierno de España anunció ayer un nuevo plan de vivienda para los jóvenes, que "
        "según el ministerio permitirá construir miles de pisos en los próximos cinco años."
    )
    expect_comprehend(stubber, text, "España", "es")
    # WHEN auto enriches it, THEN the detected language picks Comprehend with code es
    assert router.enrich(text).enrichment.backend == "comprehend"


def test_backends_are_built_on_first_use_only(client: Any) -> None:
    # GIVEN a router whose backends record when they are built
    built: list[str] = []

    def make_local() -> Enricher:
        built.append("local")
        return RecordingLocal()

    def make_comprehend() -> Enricher:
        built.append("comprehend")
        return ComprehendEnricher(client)

    router = RoutingEnricher(local=make_local, comprehend=make_comprehend)
    # WHEN only English arrives, twice, THEN only the local backend is built, once
    router.enrich("The mayor of Leeds opened the new bridge.", "en")
    router.enrich("The mayor of York opened the new bridge.", "en")
    assert built == ["local"]


def test_get_enricher_builds_auto_with_the_given_client(client: Any) -> None:
    # WHEN auto is requested, THEN a router comes back, cached like the other backends
    router = get_enricher("auto", client=client)
    assert isinstance(router, RoutingEnricher) and router.backend == "auto"
    assert get_enricher("auto", client=client) is router


def test_the_enrich_settings_accept_auto() -> None:
    settings = EnrichSettings.model_validate(
        {"ARTICLES_BUCKET": "b", "ARTICLES_TABLE": "t", "ENRICH_BACKEND": "auto"}
    )
    assert settings.ENRICH_BACKEND == "auto"
