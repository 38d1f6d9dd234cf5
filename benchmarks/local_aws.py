"""What the benchmarks share: fake keys for the local AWS, and a table with the type index."""

from __future__ import annotations

import os
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer

KEYS = {"region_name": "us-east-1", "aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
# For the CLI run as a child: the same fake keys, so nothing can reach a real account.
CHILD_ENV = {
    **os.environ,
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_ser = TypeSerializer().serialize


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, **KEYS)


def create_table(ddb: Any, name: str) -> str:
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "TYPE")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSITYPE",
                "KeySchema": [{"AttributeName": "TYPE", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    return name


def put_items(ddb: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": {k: _ser(v) for k, v in i.items()}}} for i in items[start : start + 25]]
        ddb.batch_write_item(RequestItems={table: batch})
