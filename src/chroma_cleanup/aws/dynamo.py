"""The receipts table: items of one TYPE streamed page by page, and conditional single-item updates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import botocore.exceptions as bx
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from chroma_cleanup.aws.clients import AwsSession, aws_errors, error_code, error_message
from chroma_cleanup.errors import ConfigError

_deserialize = TypeDeserializer().deserialize
_serialize = TypeSerializer().serialize


@dataclass(frozen=True)
class UpdateFailed(Exception):
    code: str
    message: str


class Table:
    def __init__(self, session: AwsSession, name: str, *, type_index: str, type_attribute: str) -> None:
        self.name = name
        self._ddb = session.client("dynamodb")
        self._type_index = type_index
        self._type_attribute = type_attribute

    def items_of_type(
        self,
        item_type: str,
        attributes: tuple[str, ...],
        where: tuple[str, dict[str, Any]] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Items whose TYPE is `item_type`, with only `attributes`, streamed one page at a time.

        Uses the type index when there is one; otherwise a paginated scan filtered on TYPE.
        `where` is an extra filter: an expression over `#a0`, `#a1`… (the names in `attributes`) and its values.
        """
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        names["#type"] = self._type_attribute
        values = {":type": _serialize(item_type)}
        filters = []
        if where:
            filters.append(where[0])
            values.update({k: _serialize(v) for k, v in where[1].items()})
        request: dict[str, Any] = {
            "TableName": self.name,
            "ProjectionExpression": ", ".join(names_for(attributes)),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if self._type_index:
            request.update(IndexName=self._type_index, KeyConditionExpression="#type = :type")
            operation = "query"
        else:
            filters.insert(0, "#type = :type")
            operation = "scan"
        if filters:
            request["FilterExpression"] = " AND ".join(f"({f})" for f in filters)
        pages = self._ddb.get_paginator(operation).paginate(**request)
        with aws_errors(f"table {self.name}"):
            try:
                for page in pages:
                    for raw in page.get("Items", []):
                        yield {k: _deserialize(v) for k, v in raw.items()}
            except bx.ClientError as exc:
                # AWS answers ValidationException, moto ResourceNotFoundException; both name the index.
                missing_index = error_code(exc) in ("ValidationException", "ResourceNotFoundException")
                if self._type_index and missing_index and "index" in error_message(exc).lower():
                    raise ConfigError(
                        f"table {self.name} has no index {self._type_index}",
                        'name the type index with [layout] type_index, or set it to "" to scan the table',
                    ) from None
                raise

    def update(self, key: dict[str, str], changes: dict[str, Any]) -> bool:
        """Set `changes` on an existing item. False when the item is gone; never creates one."""
        names = {f"#c{i}": name for i, name in enumerate(changes)}
        values = {f":c{i}": _serialize(value) for i, value in enumerate(changes.values())}
        names["#pk"] = next(iter(key))
        try:
            self._ddb.update_item(
                TableName=self.name,
                Key={k: _serialize(v) for k, v in key.items()},
                UpdateExpression="SET " + ", ".join(f"#c{i} = :c{i}" for i in range(len(changes))),
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except bx.ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise UpdateFailed(error_code(exc), error_message(exc)) from None
        except bx.BotoCoreError as exc:
            raise UpdateFailed(type(exc).__name__, str(exc)) from None
        return True


def names_for(attributes: tuple[str, ...]) -> list[str]:
    """Placeholders for attribute names: TYPE, status and friends are reserved words."""
    return [f"#a{i}" for i in range(len(attributes))]
