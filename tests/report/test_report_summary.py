"""The report's figures from a known stream: counts, averages, optional sections, commands."""

from __future__ import annotations

import re

from newsflow_cli.report import StreamReport, render
from newsflow_cli.report.reading import StreamSnapshot

from .conftest import build, stream


def by_label(figures: list) -> dict[str, int]:  # type: ignore[type-arg]
    return {figure.label: figure.value for figure in figures}


def test_articles_per_day_come_from_the_documents_partition(report: StreamReport) -> None:
    # GIVEN a1 stored under dt=2026-11-20 and a2, a3 under dt=2026-11-21
    # THEN each day counts its stored documents and says how to list them
    assert by_label(report.per_day) == {"2026-11-20": 1, "2026-11-21": 2}
    assert report.per_day[0].command == (
        "aws s3 ls s3://articles-bucket/articles/dt=2026-11-20/ | wc -l"
    )


def test_failures_without_a_document_count_once_with_their_host(report: StreamReport) -> None:
    # GIVEN two fetch failures that never got a document (only the failures index knows them)
    assert report.articles == 5
    assert by_label(report.per_domain) == {
        "news.example.com": 2,
        "slow.example.net": 2,
        "blog.example.org": 1,
    }
    outcomes = by_label(report.outcomes)
    assert outcomes["ENRICHED"] == 3
    assert outcomes["FAILED"] == 2
    assert outcomes["dead letters (now)"] == 1
    assert outcomes["rejected bodies 2026-11-21"] == 1
    assert by_label(report.failures) == {"fetch / http_error": 1, "fetch / timeout": 1}
    assert report.failing_hosts[0].domain == "slow.example.net"
    assert report.failing_hosts[0].failed == 2


def test_languages_and_articles_left_unanalysed(report: StreamReport) -> None:
    # GIVEN a German article enriched with language_supported false
    assert by_label(report.languages) == {"en": 2, "de": 1}
    assert report.not_analysed is not None and report.not_analysed.value == 1
    assert "language_supported" in report.not_analysed.command


def test_an_item_without_language_supported_counts_by_its_missing_sentiment() -> None:
    older = stream()
    for row in older.articles:
        row.pop("language_supported", None)
    report = build(older)
    assert report.not_analysed is not None and report.not_analysed.value == 1


def test_top_entities_by_mentions_with_sentiment_from_the_entity_index(
    report: StreamReport,
) -> None:
    helen = report.entities[0]
    assert (helen.name, helen.mentions, helen.articles) == ("Helen Carter", 5, 2)
    assert helen.average_sentiment == 0.1  # (0.5 - 0.3) / 2: the tone of a1 and a2
    assert [link.article_id for link in helen.links] == ["a1", "a2"]
    assert helen.command == "newsflow entity 'Helen Carter' --json"


def test_sentiment_per_domain_and_day_skips_articles_without_one(report: StreamReport) -> None:
    assert {a.label: a.average for a in report.sentiment_by_domain} == {"news.example.com": 0.1}
    assert {a.label: a.articles for a in report.sentiment_by_day} == {
        "2026-11-20": 1,
        "2026-11-21": 1,
    }


def test_duplicates_sources_and_fetch_times_when_present(report: StreamReport) -> None:
    assert [(c.cluster_id, c.size) for c in report.clusters] == [("a1", 2)]
    assert report.duplicates is not None and report.duplicates.value == 1
    assert by_label(report.sources) == {"feed-1": 2}
    slowest = report.slowest_hosts[0]
    assert (slowest.domain, slowest.slowest_fetch_ms) == ("news.example.com", 850)


def test_feeds_and_sitemaps_show_what_they_brought_and_how_polling_goes(
    report: StreamReport,
) -> None:
    # GIVEN two source items: feed-1 brought a1 and a2, feed-2 fails to poll
    rows = {f.source_id: f for f in report.source_items}
    assert (rows["feed-1"].articles, rows["feed-1"].pushed) == (2, 40)
    assert rows["feed-2"].articles == 0
    assert rows["feed-2"].last_error == "http_error: HTTP 500"
    assert rows["feed-2"].consecutive_failures == 3
    assert rows["feed-1"].command == "newsflow sources list"


def test_sections_whose_data_is_absent_are_left_out() -> None:
    # GIVEN items written before duplicates, sources and fetch times existed
    old = stream()
    for row in old.articles:
        for name in ("duplicate_of", "cluster_id", "source", "fetch_ms"):
            row.pop(name, None)
    old.sources = []
    report = build(old)
    assert (report.clusters, report.duplicates, report.sources) == ([], None, [])
    assert report.slowest_hosts == []
    page = render(report)
    assert 'id="duplicates"' not in page
    assert 'id="sources"' not in page
    assert 'id="source-items"' not in page
    assert 'id="slowest-hosts"' not in page
    assert 'id="entities"' in page


def test_an_empty_range_renders() -> None:
    from .conftest import SINCE, UNTIL

    report = build(StreamSnapshot(since=SINCE, until=UNTIL))
    assert report.articles == 0
    assert "At a glance" in render(report)


def test_a_deployed_stack_gets_stack_options_in_every_command() -> None:
    from datetime import date

    from newsflow_cli.report.summary import Commands

    commands = Commands(bucket="b", since=date(2026, 11, 20), stack="newsflow-prod")
    assert commands.entity("X").endswith("--stack newsflow-prod")
    assert "--stack newsflow-prod" in commands.reason("timeout")


def test_list_commands_count_exactly_the_reports_days(report: StreamReport) -> None:
    # GIVEN a report of 2026-11-20 .. 2026-11-21 (a range that ends before today)
    # THEN its `newsflow list` commands are bounded on both sides, the domain ones included
    bounded = "--since 2026-11-20 --until 2026-11-21 --limit"
    assert report.not_analysed is not None
    assert bounded in report.not_analysed.command
    assert report.outcomes and all(
        bounded in f.command for f in report.outcomes if "list" in f.command
    )
    assert report.per_domain and all(bounded in f.command for f in report.per_domain)
    assert report.failures and all(bounded in f.command for f in report.failures)


def test_the_page_loads_nothing_from_anywhere(report: StreamReport) -> None:
    page = render(report)
    # THEN no element pulls a resource: no src=, no stylesheet link, no url(...) in styles
    assert not re.search(r"\ssrc=", page)
    assert "<link" not in page
    assert "url(" not in page
    assert "default-src 'none'" in page
    # AND the only hrefs are the articles' own links, followed only when clicked
    hrefs = re.findall(r'href="([^"]+)"', page)
    assert hrefs and all(h.startswith("https://news.example.com/") for h in hrefs)


def test_every_number_on_the_page_sits_next_to_its_command(report: StreamReport) -> None:
    page = render(report)
    for row in re.findall(r'<tr data-figure="[^"]*">(.*?)</tr>', page):
        assert "<code>" in row
