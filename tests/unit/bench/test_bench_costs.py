"""The cost model's arithmetic on made-up numbers."""

from __future__ import annotations

import math
from types import ModuleType

import pytest


@pytest.mark.parametrize(
    ("lengths", "units"),
    [([50], 3), ([300], 3), ([301], 4), ([1000], 10), ([50, 450, 1001], 3 + 5 + 11), ([], 0)],
)
def test_comprehend_units_round_up_with_three_unit_minimum(
    costs: ModuleType, lengths: list[int], units: int
) -> None:
    # GIVEN documents of these lengths WHEN billed THEN 100-character units, at least 3 each
    assert costs.comprehend_units(lengths) == units


def test_tiered_cost_prices_each_tier_separately(costs: ModuleType) -> None:
    # GIVEN 10 units at 1.0, then 0.5 per unit, and 15 units used
    tiers = ((10, 1.0), (math.inf, 0.5))
    # WHEN priced THEN 10 x 1.0 + 5 x 0.5
    assert costs.tiered_cost(15, tiers) == pytest.approx(12.5)


def test_cpu_below_a_full_vcpu_is_stretched_and_above_it_is_not(costs: ModuleType) -> None:
    # GIVEN 100 ms of CPU on one full core
    # WHEN billed at 1,024 MB and at 2,048 MB, plus 50 ms of waiting
    small = costs.lambda_duration_ms(100.0, 1024, 50.0)
    large = costs.lambda_duration_ms(100.0, 2048, 50.0)
    # THEN the smaller function gets 1024/1769 of a core; the larger no more than one core
    assert small == pytest.approx(100.0 * 1769 / 1024 + 50.0)
    assert large == pytest.approx(150.0)


def test_lambda_bills_gb_seconds_and_one_request_per_batch(costs: ModuleType) -> None:
    # GIVEN 1,000 articles at 100 ms each in a 1,024 MB function, batches of 10
    load = costs.FunctionLoad("fetch", 1024, 100.0, 10)
    prices = costs.Prices(lambda_gb_second=1.0, lambda_request=2.0)
    # WHEN priced
    lines = dict(costs.lambda_lines(load, 1000, prices))
    # THEN 1 GB x 0.1 s x 1,000 = 100 GB-s, and 100 invocations
    assert lines["lambda_fetch_compute"] == pytest.approx(100.0)
    assert lines["lambda_fetch_requests"] == pytest.approx(200.0)


@pytest.mark.parametrize(("size", "units"), [(0, 1), (1024, 1), (1025, 2), (4000, 4)])
def test_write_units_per_started_kilobyte(costs: ModuleType, size: int, units: int) -> None:
    # GIVEN an item of this size WHEN written THEN one unit per started KB, at least one
    assert costs.write_units(size) == units


def test_sqs_requests_per_article_on_both_queues(costs: ModuleType) -> None:
    # GIVEN batches of 10 for the producer and both functions
    # WHEN counted THEN producer 0.1 + receive/delete 0.2, fetch stage send 1 + receive/delete 0.2
    assert costs.sqs_requests_per_article(10) == pytest.approx(1.5)


def test_item_size_counts_names_and_values(costs: ModuleType) -> None:
    # GIVEN an item with a string, a number and a list of strings
    item = {"pk": "ARTICLE#1", "count": 12345, "tags": ["ab", "c"]}
    # WHEN sized THEN names + UTF-8 strings + number digits + list overhead
    expected = (2 + 9) + (5 + 1 + 3) + (4 + 3 + (1 + 2) + (1 + 1))
    assert costs.dynamodb_item_bytes(item) == expected


def test_pipeline_total_is_the_sum_of_its_lines(costs: ModuleType) -> None:
    # GIVEN made-up usage with Comprehend units
    usage = costs.ArticleUsage(
        sqs_requests=1.5,
        s3_puts=3,
        s3_gets=1,
        s3_bytes=10_000,
        dynamodb_wru=20,
        dynamodb_rru=2,
        dynamodb_bytes=5_000,
        log_bytes=1_000,
        comprehend_entity_units=30,
        comprehend_sentiment_units=40,
    )
    functions = [costs.FunctionLoad("fetch", 1024, 50.0), costs.FunctionLoad("enrich", 2048, 90.0)]
    # WHEN 1,000 articles are priced
    breakdown = costs.pipeline_cost(
        articles=1000, functions=functions, usage=usage, prices=costs.Prices()
    )
    # THEN the total adds up the lines, and Comprehend is billed per API
    assert breakdown.total == pytest.approx(sum(breakdown.lines.values()))
    assert breakdown.lines["comprehend_entities"] == pytest.approx(30_000 * 0.0001)
    assert breakdown.lines["comprehend_sentiment"] == pytest.approx(40_000 * 0.0001)


def test_no_comprehend_lines_without_comprehend_units(costs: ModuleType) -> None:
    # GIVEN usage of the local backend (no Comprehend units)
    usage = costs.ArticleUsage(
        sqs_requests=1.5, s3_puts=3, s3_gets=1, s3_bytes=1, dynamodb_wru=1, dynamodb_rru=1,
        dynamodb_bytes=1,
    )  # fmt: skip
    # WHEN priced THEN no Comprehend line appears
    breakdown = costs.pipeline_cost(articles=10, functions=[], usage=usage, prices=costs.Prices())
    assert not any(name.startswith("comprehend") for name in breakdown.lines)


def test_auto_usage_weights_each_backend_by_its_share_of_the_stream(costs: ModuleType) -> None:
    # GIVEN local and Comprehend usage per article, and a stream 30 % routed to Comprehend
    local = costs.ArticleUsage(
        sqs_requests=1.5, s3_puts=3, s3_gets=1, s3_bytes=1_000, dynamodb_wru=20, dynamodb_rru=2,
        dynamodb_bytes=500,
    )  # fmt: skip
    comprehend = costs.ArticleUsage(
        sqs_requests=1.5, s3_puts=3, s3_gets=1, s3_bytes=1_000, dynamodb_wru=10, dynamodb_rru=2,
        dynamodb_bytes=500, comprehend_entity_units=70, comprehend_sentiment_units=80,
    )  # fmt: skip
    # WHEN mixed
    usage = costs.routed_usage(local, comprehend, 0.3)
    # THEN each figure is the weighted mean, and only that share uses Comprehend units
    assert usage.dynamodb_wru == pytest.approx(20 * 0.7 + 10 * 0.3)
    assert usage.comprehend_entity_units == pytest.approx(21.0)
    assert usage.comprehend_sentiment_units == pytest.approx(24.0)
    assert usage.s3_puts == pytest.approx(3)
    # AND the bill for 1M such articles prices the Comprehend share only
    breakdown = costs.pipeline_cost(
        articles=1_000_000, functions=[], usage=usage, prices=costs.Prices()
    )
    expected_entities = 10_000_000 * 0.0001 + 11_000_000 * 0.00005
    assert breakdown.lines["comprehend_entities"] == pytest.approx(expected_entities)


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_share_outside_zero_to_one_is_refused(costs: ModuleType, share: float) -> None:
    with pytest.raises(ValueError, match="comprehend_share"):
        costs.routed(1.0, 2.0, share)


def test_an_update_is_billed_on_the_larger_of_the_item_before_and_after(
    costs: ModuleType,
) -> None:
    # GIVEN an item of about 1.5 KB and the same item cut to about 0.5 KB
    large = {"pk": "ARTICLE#1", "sk": "ARTICLE", "blob": "x" * 1500}
    small = {"pk": "ARTICLE#1", "sk": "ARTICLE", "blob": "x" * 500}
    # THEN growing or shrinking it costs 2 units, a write of the small one 1, a delete of the
    # large one 2, and a write of nothing (a failed condition) still 1
    assert costs.update_write_units(small, large) == 2
    assert costs.update_write_units(large, small) == 2
    assert costs.update_write_units(None, small) == 1
    assert costs.update_write_units(large, None) == 2
    assert costs.update_write_units(None, None) == 1


def test_a_read_is_billed_on_the_whole_item_and_half_when_eventually_consistent(
    costs: ModuleType,
) -> None:
    item = {"pk": "BAND#0#ab", "sk": "FINGERPRINT", "blob": "x" * 5000}
    assert costs.read_units(item, consistent=True) == 2
    assert costs.read_units(item, consistent=False) == 1
    assert costs.read_units(None, consistent=False) == 0.5  # a missing key still costs


def test_an_index_write_follows_its_copy_of_the_item(costs: ModuleType) -> None:
    # GIVEN the domain index of the template (keys domain/domain_sk, a few projected names)
    [index] = costs.index_shapes(
        {
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "DomainDateIndex",
                    "KeySchema": [
                        {"AttributeName": "domain", "KeyType": "HASH"},
                        {"AttributeName": "domain_sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status"]},
                }
            ]
        }
    )
    fetched = {"pk": "A", "sk": "B", "domain": "d", "domain_sk": "1", "status": "FETCHED"}
    marked = {**fetched, "handoff_at": "now"}
    enriched = {**marked, "status": "ENRICHED"}
    moved = {**enriched, "domain_sk": "2"}
    # THEN a new item is one index write, a change outside the projection none, a projected
    # change one, a moved index key two (delete + put), an item without the keys none
    assert index.writes(None, fetched) == 1
    assert index.writes(fetched, marked) == 0
    assert index.writes(marked, enriched) == 1
    assert index.writes(enriched, moved) == 2
    assert index.writes(None, {"pk": "ENTITY#x", "sk": "y"}) == 0
