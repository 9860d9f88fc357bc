"""Amazon Comprehend backend: ``BatchDetectEntities`` + ``BatchDetectSentiment``.

Limits (Comprehend API reference): each document of a batch call is at most 5 KB of UTF-8
(older wording: "fewer than 5,000 bytes"), so chunks stay at or below 4,999 bytes; at most 25
documents per call. (The 100 KB limit applies to single-document ``DetectEntities`` only.)

* Entity chunks are runs of whole sentences up to the byte limit (a single over-long sentence is
  cut at a safe character boundary, see :mod:`newsflow.enrichment.segmentation`).
* Sentiment chunks are smaller, runs of sentences up to 500 characters: some published versions
  of the API reference say real-time sentiment reads only the first 500 characters of a
  document, and smaller chunks give each entity the sentiment of the passage that mentions it
  rather than of a 5 KB block. Comprehend bills per 100 characters with a 3-unit minimum per
  document, so this costs little extra.
* ``BeginOffset``/``EndOffset`` count Unicode code points (documented: "a multi-byte UTF-8
  character maps to a single code point"), i.e. Python ``str`` indices within the chunk; the
  chunk's start is added to map them onto the full text. If a returned offset does not match
  the returned ``Text`` (e.g. a service counting UTF-16 units around emoji), the text is looked
  up near that offset instead, and the mention is dropped if it is not found.
* Document sentiment is the length-weighted mean of the chunk scores (see
  :mod:`newsflow.enrichment.aggregation`); chunk polarity is ``Positive - Negative``.

Errors: throttling -> :class:`TransientError` (``throttled``); ``InternalServerException``,
5xx, connection/timeouts and credential/permission failures -> :class:`TransientError`
(``aws_error``: a misconfigured role must not mark every article FAILED; the messages wait in the
DLQ for a redrive); invalid request, text or batch size -> :class:`PermanentError`
(``invalid_document``); ``UnsupportedLanguageException`` -> :class:`PermanentError`
(``unsupported_language``). Per-document ``ErrorList`` entries: a service-side fault makes the
whole call transient; any other failed chunk is skipped, and if every chunk of a call failed the
document fails permanently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from newsflow.aws_errors import is_retryable_code, network_error, pipeline_error
from newsflow.enrichment.aggregation import RawMention, ScoredSegment
from newsflow.enrichment.base import analysis_result, require_text, resolve_language, unsupported
from newsflow.enrichment.segmentation import Span, pack_chunks, sentence_spans
from newsflow.errors import PermanentError, Reason, Stage, TransientError
from newsflow.models import Enrichment

if TYPE_CHECKING:
    from mypy_boto3_comprehend import ComprehendClient
    from mypy_boto3_comprehend.literals import LanguageCodeType

MAX_DOCUMENT_BYTES = 4_999
MAX_BATCH_DOCUMENTS = 25
SENTIMENT_CHUNK_CHARS = 500
SUPPORTED_LANGUAGES = frozenset(
    {"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"}
)
COMPREHEND_TYPES: dict[str, str] = {
    "PERSON": "PERSON",
    "ORGANIZATION": "ORGANIZATION",
    "LOCATION": "LOCATION",
    "EVENT": "EVENT",
    "COMMERCIAL_ITEM": "PRODUCT",
    "TITLE": "WORK",
    "OTHER": "OTHER",
}
"""Comprehend entity types kept; DATE and QUANTITY are dropped."""

_OFFSET_SEARCH_WINDOW = 64


class ComprehendEnricher:
    """Enrichment by Amazon Comprehend's built-in models; the boto3 client is injected."""

    backend: str = "comprehend"

    def __init__(
        self,
        client: ComprehendClient | None = None,
        *,
        max_document_bytes: int = MAX_DOCUMENT_BYTES,
        sentiment_chunk_chars: int = SENTIMENT_CHUNK_CHARS,
    ) -> None:
        if client is None:
            import boto3

            client = boto3.client("comprehend")
        self._client = client
        self.max_document_bytes = max_document_bytes
        self.sentiment_chunk_chars = sentiment_chunk_chars
        self.model = f"comprehend-{client.meta.service_model.api_version}"

    def enrich(self, text: str, language: str | None = None) -> Enrichment:
        require_text(text)
        detected = resolve_language(text, language) or "en"
        if detected not in SUPPORTED_LANGUAGES:
            return unsupported(self.backend, self.model, detected)
        code = cast("LanguageCodeType", detected)

        sentences = sentence_spans(text)
        entity_chunks = pack_chunks(text, sentences, self.max_document_bytes)
        sentiment_chunks = pack_chunks(
            text, sentences, self.max_document_bytes, self.sentiment_chunk_chars
        )
        entity_results = self._batched(
            "BatchDetectEntities",
            lambda batch: self._client.batch_detect_entities(TextList=batch, LanguageCode=code),
            text,
            entity_chunks,
        )
        sentiment_results = self._batched(
            "BatchDetectSentiment",
            lambda batch: self._client.batch_detect_sentiment(TextList=batch, LanguageCode=code),
            text,
            sentiment_chunks,
        )

        mentions: list[RawMention] = []
        for (chunk_start, chunk_end), result in zip(entity_chunks, entity_results, strict=True):
            if result is not None:
                mentions.extend(_mentions(text, chunk_start, chunk_end, result))
        segments = [
            _segment(start, end, result)
            for (start, end), result in zip(sentiment_chunks, sentiment_results, strict=True)
            if result is not None
        ]
        return analysis_result(self.backend, self.model, text, mentions, segments)

    def _batched(
        self,
        operation: str,
        call: Callable[[list[str]], Mapping[str, Any]],
        text: str,
        chunks: Sequence[Span],
    ) -> list[Mapping[str, Any] | None]:
        """One result per chunk (``None`` for a chunk the service rejected)."""
        results: list[Mapping[str, Any] | None] = [None] * len(chunks)
        failures: list[str] = []
        for offset in range(0, len(chunks), MAX_BATCH_DOCUMENTS):
            batch = [text[s:e] for s, e in chunks[offset : offset + MAX_BATCH_DOCUMENTS]]
            try:
                response = call(batch)
            except ClientError as exc:
                raise pipeline_error(exc, operation, stage=Stage.ENRICH) from exc
            except BotoCoreError as exc:
                raise network_error(exc, operation, stage=Stage.ENRICH) from exc
            for item in response.get("ResultList", []):
                results[offset + int(item["Index"])] = item
            for error in response.get("ErrorList", []):
                code = str(error.get("ErrorCode", ""))
                index = offset + int(error.get("Index", 0))
                message = error.get("ErrorMessage", "")
                detail = f"{operation} document {index}: {code} {message}".strip()
                if is_retryable_code(code):
                    raise TransientError(Reason.AWS_ERROR, detail, stage=Stage.ENRICH)
                failures.append(detail)
        if chunks and len(failures) == len(chunks):
            raise PermanentError(
                Reason.INVALID_DOCUMENT,
                f"every chunk was rejected; first: {failures[0]}",
                stage=Stage.ENRICH,
            )
        return results


def _mentions(
    text: str, chunk_start: int, chunk_end: int, result: Mapping[str, Any]
) -> list[RawMention]:
    found: list[RawMention] = []
    chunk = text[chunk_start:chunk_end]
    for entity in result.get("Entities", []):
        kind = COMPREHEND_TYPES.get(str(entity.get("Type", "")))
        surface = str(entity.get("Text", ""))
        if kind is None or not surface:
            continue
        begin = _locate(chunk, int(entity.get("BeginOffset", -1)), surface)
        if begin is not None:
            found.append(RawMention(chunk_start + begin, chunk_start + begin + len(surface), kind))
    return found


def _locate(chunk: str, begin: int, surface: str) -> int | None:
    """Offset of ``surface`` in ``chunk``: ``begin`` if it matches there, else the nearest hit."""
    if begin >= 0 and chunk.startswith(surface, begin):
        return begin
    low = max(0, begin - _OFFSET_SEARCH_WINDOW)
    high = min(len(chunk), max(begin, 0) + len(surface) + _OFFSET_SEARCH_WINDOW)
    hits = []
    position = chunk.find(surface, low, high)
    while position != -1:
        hits.append(position)
        position = chunk.find(surface, position + 1, high)
    if not hits:
        return None
    return min(hits, key=lambda hit: abs(hit - begin))


def _segment(start: int, end: int, result: Mapping[str, Any]) -> ScoredSegment:
    score = result.get("SentimentScore", {})
    positive = float(score.get("Positive", 0.0))
    negative = float(score.get("Negative", 0.0))
    neutral = float(score.get("Neutral", 0.0))
    mixed = float(score.get("Mixed", 0.0))
    total = positive + negative + neutral + mixed
    if total <= 0:
        positive, negative, neutral, mixed, total = 0.0, 0.0, 1.0, 0.0, 1.0
    return ScoredSegment(
        start=start,
        end=end,
        polarity=(positive - negative) / total,
        positive=positive / total,
        negative=negative / total,
        neutral=neutral / total,
        mixed=mixed / total,
    )
