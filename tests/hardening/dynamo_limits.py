"""Every item the stages write, checked against DynamoDB's documented limits.

moto accepts items DynamoDB rejects (it does not enforce every key-size limit, nor index key
sizes), so a test that only looks at outcomes would pass code that fails on AWS on every retry.
:class:`DynamoLimitsChecker` hooks the session the handlers build their clients from: each
PutItem and BatchWriteItem put is checked as sent, and each UpdateItem's key is remembered and
the whole item read back (with the test's own client) when the test calls ``verify``.

Limits (DynamoDB developer guide, "Service, account, and table quotas"): an item at most
400 KB (attribute names plus values); a partition key value 1..2,048 bytes and a sort key value
1..1,024 bytes, for the table's keys and for every global secondary index's keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from newsflow.storage.limits import (
    MAX_ITEM_BYTES,
    MAX_PARTITION_KEY_BYTES,
    MAX_SORT_KEY_BYTES,
    attribute_value_size,
    item_size,
)

WireItem = Mapping[str, Mapping[str, Any]]


@dataclass
class DynamoLimitsChecker:
    session: boto3.Session
    client: Any  # the test's own DynamoDB client (not hooked)
    table: str
    # (partition key, sort key) of the table and of each global secondary index
    key_pairs: list[tuple[str, str | None]] = field(default_factory=list)
    updated_keys: list[dict[str, Any]] = field(default_factory=list)
    checked: int = 0
    violations: list[str] = field(default_factory=list)

    def install(self) -> DynamoLimitsChecker:
        description = self.client.describe_table(TableName=self.table)["Table"]
        schemas = [description["KeySchema"]] + [
            index["KeySchema"] for index in description.get("GlobalSecondaryIndexes", [])
        ]
        for schema in schemas:
            roles = {key["KeyType"]: key["AttributeName"] for key in schema}
            self.key_pairs.append((roles["HASH"], roles.get("RANGE")))
        events = self.session.events
        events.register("before-parameter-build.dynamodb.PutItem", self._on_put)
        events.register("before-parameter-build.dynamodb.BatchWriteItem", self._on_batch)
        events.register("before-parameter-build.dynamodb.UpdateItem", self._on_update)
        return self

    # ------------------------------------------------------------------ hooks

    def _on_put(self, params: dict[str, Any], **_: Any) -> None:
        self.check(params["Item"], "PutItem")

    def _on_batch(self, params: dict[str, Any], **_: Any) -> None:
        for requests in params["RequestItems"].values():
            for request in requests:
                if "PutRequest" in request:
                    self.check(request["PutRequest"]["Item"], "BatchWriteItem")

    def _on_update(self, params: dict[str, Any], **_: Any) -> None:
        self.updated_keys.append(dict(params["Key"]))

    # ------------------------------------------------------------------ checks

    def check(self, item: WireItem, how: str) -> None:
        self.checked += 1
        where = f"{how} {_key_text(item)}"
        size = item_size(item)
        if size >= MAX_ITEM_BYTES:
            self.violations.append(f"{where}: item of {size:,} bytes (limit {MAX_ITEM_BYTES:,})")
        for partition, sort in self.key_pairs:
            self._check_key(item, partition, MAX_PARTITION_KEY_BYTES, where)
            if sort is not None:
                self._check_key(item, sort, MAX_SORT_KEY_BYTES, where)

    def _check_key(self, item: WireItem, name: str, limit: int, where: str) -> None:
        if name not in item:
            return  # sparse index: the item is simply not in it
        size = attribute_value_size(item[name])
        if not 1 <= size <= limit:
            self.violations.append(f"{where}: key {name} of {size:,} bytes (limit {limit:,})")

    def verify(self) -> None:
        """Read back every updated item and check it; then assert nothing broke a limit."""
        for key in self.updated_keys:
            found = self.client.get_item(TableName=self.table, Key=key).get("Item")
            if found is not None:
                self.check(found, "UpdateItem")
        self.updated_keys.clear()
        assert not self.violations, "\n".join(self.violations)


def _key_text(item: WireItem) -> str:
    parts = []
    for name in ("pk", "sk"):
        value = str(next(iter(item.get(name, {"S": "?"}).values())))
        parts.append(value if len(value) <= 60 else f"{value[:60]}... ({len(value):,} chars)")
    return " / ".join(parts)
