"""The Glue table over enriched/ matches the document the pipeline writes."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from newsflow.models import EnrichedArticle, EnrichmentInfo, Entity, ExtractorInfo, Sentiment

from .cfn import Template, referenced_ids


def _glue_table(template: Template) -> dict[str, Any]:
    table: dict[str, Any] = template["Resources"]["EnrichedArticlesTable"]["Properties"]
    return table


def _struct_fields(hive_type: str) -> list[str]:
    """Top-level field names of a Hive ``struct<...>`` type."""
    inner = hive_type[hive_type.index("<") + 1 : hive_type.rindex(">")]
    names, depth, token = [], 0, ""
    for char in inner:
        depth += char == "<"
        depth -= char == ">"
        if char == "," and depth == 0:
            names.append(token.split(":", 1)[0])
            token = ""
        else:
            token += char
    names.append(token.split(":", 1)[0])
    return names


def _fields(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def test_columns_are_the_enriched_document_fields(sam_template: Template) -> None:
    # GIVEN the Glue table and the pydantic model of the enriched document
    columns = [
        c["Name"] for c in _glue_table(sam_template)["TableInput"]["StorageDescriptor"]["Columns"]
    ]
    # THEN there is one column per model field, in the model's order
    assert columns == _fields(EnrichedArticle)


def test_nested_structs_follow_the_nested_models(sam_template: Template) -> None:
    # GIVEN the struct-typed columns
    types = {
        c["Name"]: c["Type"]
        for c in _glue_table(sam_template)["TableInput"]["StorageDescriptor"]["Columns"]
    }
    # THEN their fields are the nested models' fields
    assert _struct_fields(types["extractor"]) == _fields(ExtractorInfo)
    assert _struct_fields(types["enrichment"]) == _fields(EnrichmentInfo)
    assert _struct_fields(types["sentiment"]) == _fields(Sentiment)
    entity = re.fullmatch(r"array<(struct<.*>)>", types["entities"])
    assert entity is not None
    assert _struct_fields(entity.group(1)) == _fields(Entity)


def test_partitions_are_projected_from_dt_under_enriched(sam_template: Template) -> None:
    # GIVEN the table input
    table = _glue_table(sam_template)["TableInput"]
    params = table["Parameters"]
    # THEN Athena computes dt partitions itself (no crawler) from the S3 layout enriched/dt=.../
    assert [k["Name"] for k in table["PartitionKeys"]] == ["dt"]
    assert params["projection.enabled"] == "true"
    assert params["projection.dt.type"] == "date"
    assert params["projection.dt.format"] == "yyyy-MM-dd"
    assert params["storage.location.template"] == {
        "Fn::Sub": "s3://${ArticlesBucket}/enriched/dt=${!dt}/"
    }
    serde = table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
    assert serde == "org.openx.data.jsonserde.JsonSerDe"


def test_athena_results_stay_encrypted_in_the_bucket(sam_template: Template) -> None:
    # GIVEN the Athena workgroup
    config = sam_template["Resources"]["AnalyticsWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    result = config["ResultConfiguration"]
    # THEN results go to athena-results/ of the stack's bucket, encrypted, and users cannot
    # point them elsewhere
    assert result["OutputLocation"] == {"Fn::Sub": "s3://${ArticlesBucket}/athena-results/"}
    assert referenced_ids(result["OutputLocation"]) == {"ArticlesBucket"}
    assert result["EncryptionConfiguration"]["EncryptionOption"] == "SSE_S3"
    assert config["EnforceWorkGroupConfiguration"] is True
