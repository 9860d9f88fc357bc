"""parse_html on realistic pages: text, metadata and the pages that hold no article."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
import trafilatura

from newsflow import extraction
from newsflow.errors import PermanentError, Reason, Stage
from newsflow.extraction import parse_html
from newsflow.text import count_words

Page = Callable[[str], bytes]
ArticlePage = Callable[..., str]


# ------------------------------------------------------------------ English news article


def test_news_article_text_is_the_story_without_page_furniture(page: Page) -> None:
    # GIVEN a news page with navigation, cookie banner, related links, comments and footer
    # WHEN parsed
    article = parse_html(page("news_article.html"))
    # THEN the text holds the story, first to last paragraph, and none of the furniture
    assert "approved a 2.4-kilometre extension of the Line 2 tram" in article.text
    assert "until the end of June." in article.text
    for furniture in ("Subscribe", "Accept all", "Related stories", "number 14 bus", "Privacy"):
        assert furniture not in article.text


def test_news_article_metadata_comes_from_meta_tags_and_json_ld(page: Page) -> None:
    # GIVEN a news page with OpenGraph, article:* meta tags and a NewsArticle JSON-LD block
    # WHEN parsed
    article = parse_html(page("news_article.html"))
    # THEN title (whitespace collapsed), author, date, site and lists are read from them
    assert article.title == "Northbridge council backs tram extension to the harbour"
    assert article.author == "Priya Raman"
    assert article.published == date(2024, 3, 14)  # published, not the later modified date
    assert article.site_name == "The Northbridge Courier"
    assert article.image == "https://www.northbridge-courier.example/media/tram-line-2.jpg"
    assert article.description is not None
    assert article.description.startswith("Councillors voted 31 to 9")
    assert article.categories == ["Local politics"]
    assert article.tags == ["Transport", "Trams"]
    assert article.language == "en"


def test_word_count_counts_the_words_of_the_text(page: Page) -> None:
    # GIVEN a parsed article
    article = parse_html(page("news_article.html"))
    # THEN word_count is the number of words of its text (a few hundred for this story)
    assert article.word_count == count_words(article.text)
    assert 300 < article.word_count < 400


def test_extractor_name_and_version_are_recorded(page: Page) -> None:
    # GIVEN any parsed page THEN the document says which extractor produced it
    article = parse_html(page("news_article.html"))
    assert article.extractor.name == "trafilatura"
    assert article.extractor.version == trafilatura.__version__


# ------------------------------------------------------------------ blog post


def test_blog_author_is_found_in_markup_not_in_comments(page: Page) -> None:
    # GIVEN a blog post whose author appears only in a byline, with commenters marked up as
    # "comment-author" further down
    # WHEN parsed
    article = parse_html(page("blog_post.html"))
    # THEN the byline's author is taken, whitespace collapsed
    assert article.author == "Tomasz Wierzbicki"


def test_blog_metadata_comes_from_markup(page: Page) -> None:
    # GIVEN a blog post without meta tags: <h1>, <time>, category and tag links, "Post - Site"
    # title
    # WHEN parsed
    article = parse_html(page("blog_post.html"))
    # THEN every field is still found in the markup
    assert article.title == "Overwintering chillies on a north-facing windowsill"
    assert article.published == date(2023, 11, 5)
    assert article.categories == ["Vegetables", "Indoor growing"]
    assert article.tags == ["chillies", "overwintering"]
    assert article.site_name == "Small Plot Notes"


def test_blog_text_excludes_comments_and_widgets(page: Page) -> None:
    # GIVEN a blog post followed by reader comments and a "recent posts" widget
    article = parse_html(page("blog_post.html"))
    # THEN the post is in the text and the comments and widget are not
    assert "how little light a pruned plant can get away with" in article.text
    assert "cheap LED panel" not in article.text
    assert "Planting garlic in modules" not in article.text


# ------------------------------------------------------------------ other languages


def test_german_article(page: Page) -> None:
    # GIVEN a German article whose meta author carries the "Von" byline prefix
    article = parse_html(page("german_article.html"))
    # THEN author, date, site, keywords (split into tags) and language are read
    assert article.title == "Stadtwerke Talheim stellen Busflotte auf Wasserstoff um"
    assert article.author == "Katrin Oberländer"
    assert article.published == date(2024, 5, 6)
    assert article.site_name == "Talheimer Rundschau"
    assert article.tags == ["Talheim", "Nahverkehr", "Wasserstoff"]
    assert article.language == "de"
    assert "Brennstoffzellen" in article.text


def test_french_article_reads_json_ld(page: Page) -> None:
    # GIVEN a French article whose author and date are only in JSON-LD
    article = parse_html(page("french_article.html"))
    # THEN they are read from there
    assert article.author == "Hélène Martin-Ducros"
    assert article.published == date(2023, 9, 21)
    assert article.site_name == "L'Écho de la Vallée"
    assert article.language == "fr"
    assert "coopérative d'habitants" in article.text


def test_spanish_article(page: Page) -> None:
    # GIVEN a Spanish article with a meta author and article:published_time
    article = parse_html(page("spanish_article.html"))
    # THEN metadata and language are read
    assert article.author == "Jorge Alcántara Ruiz"
    assert article.published == date(2022, 8, 17)
    assert article.site_name == "Diario del Serena"
    assert article.language == "es"


# ------------------------------------------------------------------ no article


@pytest.mark.parametrize("name", ["shop_listing.html", "empty_body.html"])
def test_page_without_article_raises_nothing_extracted(page: Page, name: str) -> None:
    # GIVEN a shop listing (navigation, filters, product tiles) or a page with an empty body
    # WHEN parsed THEN it fails permanently at the parse stage
    with pytest.raises(PermanentError) as raised:
        parse_html(page(name))
    assert raised.value.reason is Reason.NOTHING_EXTRACTED
    assert raised.value.stage is Stage.PARSE
    assert raised.value.retryable is False


@pytest.mark.parametrize("empty", ["", b"", "   \n\t ", b"\xef\xbb\xbf"])
def test_empty_input_raises_nothing_extracted(empty: str | bytes) -> None:
    # GIVEN an empty document (text, bytes, whitespace, a lone BOM)
    # WHEN parsed THEN it fails permanently with nothing_extracted
    with pytest.raises(PermanentError) as raised:
        parse_html(empty)
    assert raised.value.reason is Reason.NOTHING_EXTRACTED


@pytest.mark.parametrize(
    "junk",
    [b'{"title": "json, not html"}', bytes(range(256)) * 20, b"\x00" * 64, b"\x1f\x8b\x08\x00"],
)
def test_input_that_is_not_html_raises_nothing_extracted(junk: bytes) -> None:
    # GIVEN bytes that are not an HTML page (JSON, binary noise, NULs, a gzip header)
    # WHEN parsed THEN the failure is a permanent nothing_extracted, not a crash
    with pytest.raises(PermanentError) as raised:
        parse_html(junk)
    assert raised.value.reason is Reason.NOTHING_EXTRACTED


# ------------------------------------------------------------------ robustness


def test_malformed_html_is_parsed(page: Page) -> None:
    # GIVEN a page with unclosed paragraphs, mismatched headings, overlapping inline tags and
    # stray closing tags
    # WHEN parsed
    article = parse_html(page("malformed.html"))
    # THEN the text on both sides of the damage survives, and the metadata is read
    assert article.title == "Ferry timetable changes for the winter season"
    assert article.author == "Owen Pryce"
    assert "The island ferry will run four crossings a day" in article.text
    assert "moved to another crossing." in article.text


@pytest.mark.parametrize("depth", [300, 5000])
def test_deeply_nested_page_keeps_its_text(depth: int, paragraphs: str) -> None:
    # GIVEN an article buried under more nested <div>s than the HTML parser builds (256)
    html = "<html><body>" + "<div>" * depth + paragraphs + "</div>" * depth + "</body></html>"
    # WHEN parsed
    article = parse_html(html)
    # THEN its paragraphs are extracted all the same
    assert "winter timetable for the island ferry" in article.text
    assert "again after Christmas." in article.text


def test_runaway_unclosed_tags_do_not_lose_the_text(paragraphs: str) -> None:
    # GIVEN a page where a template opens thousands of tags it never closes
    html = "<html><body>" + "<div><span><b>" * 3000 + paragraphs
    # WHEN parsed THEN the text is found
    assert "winter timetable" in parse_html(html).text


def test_text_is_plain_with_one_paragraph_per_line(article_page: ArticlePage) -> None:
    # GIVEN paragraphs separated by blank lines, runs of spaces and non-breaking spaces
    body = (
        "<p>The harbour   committee met on Thursday\u00a0to agree the winter timetable for "
        "the ferry.</p>\n\n\n<p>   </p><p>Islanders asked the operator to keep the early "
        "crossing for commuters and school pupils.</p>"
    )
    # WHEN parsed
    text = parse_html(article_page(body)).text
    # THEN each paragraph is one line, single-spaced, with no blank lines between them
    assert text.splitlines() == [
        "The harbour committee met on Thursday to agree the winter timetable for the ferry.",
        "Islanders asked the operator to keep the early crossing for commuters and school pupils.",
    ]


def test_text_never_contains_markup(article_page: ArticlePage, paragraphs: str) -> None:
    # GIVEN an article that shows escaped markup (which lxml turns back into "<script>")
    body = paragraphs + (
        "<p>The attacker posted &lt;script&gt;steal()&lt;/script&gt; and "
        "&lt;img src=x onerror=alert(1)&gt; in the comment form, the report says.</p>"
    )
    # WHEN parsed
    text = parse_html(article_page(body)).text
    # THEN no tag survives into the text, while the prose around it does
    assert "<script>" not in text
    assert "<img" not in text
    assert "in the comment form, the report says." in text


def test_publication_date_in_the_future_is_dropped(
    article_page: ArticlePage, paragraphs: str
) -> None:
    # GIVEN a page that claims to be published in the year 2999
    head = '<meta property="article:published_time" content="2999-01-01T10:00:00+00:00">'
    # WHEN parsed THEN no publication date is recorded
    assert parse_html(article_page(paragraphs, head=head)).published is None


def test_byline_prefix_is_stripped_from_meta_author(
    article_page: ArticlePage, paragraphs: str
) -> None:
    # GIVEN a meta author written as a byline
    head = '<meta name="author" content="By  Samira   Haddad">'
    # WHEN parsed THEN only the name is kept, single-spaced
    assert parse_html(article_page(paragraphs, head=head)).author == "Samira Haddad"


# ------------------------------------------------------------------ URL handling


def test_url_fills_identity_fields(article_page: ArticlePage, paragraphs: str) -> None:
    # GIVEN an article and the URL it was requested with (tracking parameters, upper case)
    url = "https://WWW.Harbour-News.example/ferry?id=42&utm_source=feed"
    # WHEN parsed with the URL
    article = parse_html(article_page(paragraphs), url)
    # THEN url is kept as given and the canonical URL, article id and domain are derived
    assert article.url == url
    assert article.canonical_url == "https://www.harbour-news.example/ferry?id=42"
    assert article.domain == "harbour-news.example"
    assert article.article_id is not None
    assert len(article.article_id) == 32


def test_identical_urls_spelled_differently_get_the_same_article_id(
    article_page: ArticlePage, paragraphs: str
) -> None:
    # GIVEN one page parsed under two spellings of its URL
    first = parse_html(article_page(paragraphs), "https://example.org/a?utm_medium=x")
    second = parse_html(article_page(paragraphs), "HTTPS://EXAMPLE.org:443/a#top")
    # THEN both have the same identity
    assert first.article_id == second.article_id


@pytest.mark.parametrize("bad_url", ["not a url", "ftp://example.org/a", "https://user:pw@x.org/"])
def test_url_that_cannot_be_canonicalised_leaves_identity_empty(
    bad_url: str, article_page: ArticlePage, paragraphs: str
) -> None:
    # GIVEN an article and a URL the URL rules refuse
    # WHEN parsed THEN parsing succeeds, the URL is kept as given and the identity fields are None
    article = parse_html(article_page(paragraphs), bad_url)
    assert article.url == bad_url
    assert (article.canonical_url, article.article_id, article.domain) == (None, None, None)


def test_without_url_identity_and_fetch_fields_stay_empty(
    article_page: ArticlePage, paragraphs: str
) -> None:
    # GIVEN an article parsed offline, without a URL
    article = parse_html(article_page(paragraphs))
    # THEN nothing pretends to know where or when it came from
    assert (article.url, article.canonical_url, article.article_id, article.domain) == (
        None,
        None,
        None,
        None,
    )
    assert article.final_url is None
    assert article.fetched_at is None


def test_relative_image_is_resolved_against_the_url(
    article_page: ArticlePage, paragraphs: str
) -> None:
    # GIVEN a page whose og:image is a site-relative path
    head = '<meta property="og:image" content="/media/ferry.jpg">'
    # WHEN parsed with its URL THEN the image URL is absolute
    article = parse_html(article_page(paragraphs, head=head), "https://example.org/news/ferry")
    assert article.image == "https://example.org/media/ferry.jpg"


def test_byline_in_article_footer_wins_over_related_story_authors(paragraphs: str) -> None:
    # GIVEN a page whose related-stories box (before the article) names other authors, and
    # whose article credits its author in the article's own footer
    html = (
        '<html lang="en"><head><title>Ferry</title></head><body>'
        '<aside class="related"><a href="/x">Bus fares frozen</a>'
        '<span class="author">Other Writer</span></aside>'
        f"<article><h1>Ferry timetable</h1>{paragraphs}"
        '<footer class="entry-footer"><span class="byline">by Lena Brandt</span></footer>'
        "</article></body></html>"
    )
    # WHEN parsed THEN the article's own byline is the author
    assert parse_html(html).author == "Lena Brandt"


def test_extractor_crash_is_a_permanent_failure(
    monkeypatch: pytest.MonkeyPatch, article_page: ArticlePage, paragraphs: str
) -> None:
    # GIVEN an extractor that fails on some markup (deterministically, so a retry cannot help)
    def explode(*_args: object, **_kwargs: object) -> None:
        raise IndexError("list index out of range")

    monkeypatch.setattr(trafilatura, "bare_extraction", explode)
    # WHEN a page is parsed THEN the failure is a permanent nothing_extracted naming the cause
    with pytest.raises(PermanentError) as raised:
        parse_html(article_page(paragraphs))
    assert raised.value.reason is Reason.NOTHING_EXTRACTED
    assert "IndexError" in raised.value.detail


def test_unreadable_metadata_still_yields_the_article(
    monkeypatch: pytest.MonkeyPatch, article_page: ArticlePage, paragraphs: str
) -> None:
    # GIVEN metadata readers that fail on a page
    def explode(*_args: object, **_kwargs: object) -> None:
        raise AttributeError("'NoneType' object has no attribute 'get'")

    monkeypatch.setattr(extraction, "examine_meta", explode)
    # WHEN the page is parsed
    article = parse_html(article_page(paragraphs))
    # THEN the text and everything derived from it are kept, the metadata left empty
    assert "winter timetable" in article.text
    assert article.language == "en"
    assert article.title is None


def test_tags_come_from_the_post_not_from_a_sidebar_tag_cloud(paragraphs: str) -> None:
    # GIVEN a post with one rel=tag link in its footer and a sidebar tag cloud of rel=tag links
    html = (
        '<html lang="en"><head><title>Ferry</title></head><body>'
        f"<article><h1>Ferry timetable</h1>{paragraphs}"
        '<footer><a href="/tag/ferries/" rel="tag">ferries</a></footer></article>'
        '<div class="sidebar"><div class="tagcloud">'
        '<a href="/tag/allotments/" rel="tag">allotments</a>'
        '<a href="/tag/buses/" rel="tag">buses</a></div></div></body></html>'
    )
    # WHEN parsed THEN only the post's own tag is recorded
    assert parse_html(html).tags == ["ferries"]
