"""Lay out a bucket, a table and state machines like the real system, written straight through boto3."""

from __future__ import annotations

import json
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_ser = TypeSerializer().serialize
_de = TypeDeserializer().deserialize


def make_bucket(s3, name: str = "chromadb-test-vectors", *, versioned: bool = True) -> str:
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def put_keys(s3, bucket: str, keys: list[str], body: bytes = b"x") -> None:
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=body)


def all_versions(s3, bucket: str) -> set[tuple[str, str, bool]]:
    """Every (key, version id, is delete marker) in the bucket."""
    found = set()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        found |= {(v["Key"], v["VersionId"], False) for v in page.get("Versions", [])}
        found |= {(m["Key"], m["VersionId"], True) for m in page.get("DeleteMarkers", [])}
    return found


def current_keys(s3, bucket: str) -> set[str]:
    keys = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys |= {o["Key"] for o in page.get("Contents", [])}
    return keys


def make_table(ddb, name: str = "ReceiptsTable-test") -> str:
    def index(index_name: str, hash_key: str, range_key: str | None) -> dict[str, Any]:
        schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
        if range_key:
            schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
        return {"IndexName": index_name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}

    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"}
            for a in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "TYPE")
        ],
        GlobalSecondaryIndexes=[
            index("GSI1", "GSI1PK", "GSI1SK"),
            index("GSI2", "GSI2PK", "GSI2SK"),
            index("GSITYPE", "TYPE", None),
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def put_items(ddb, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": {k: _ser(v) for k, v in i.items()}}} for i in items[start : start + 25]]
        ddb.batch_write_item(RequestItems={table: requests})


def all_items(ddb, table: str) -> list[dict[str, Any]]:
    items = []
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        items += [{k: _de(v) for k, v in raw.items()} for raw in page.get("Items", [])]
    return sorted(items, key=lambda i: (i["PK"], i["SK"]))


def word(image: str, receipt: int, line: int, number: int, status: str, **extra: Any) -> dict[str, Any]:
    sk = f"RECEIPT#{receipt:05d}#LINE#{line:05d}#WORD#{number:05d}"
    return {
        "PK": f"IMAGE#{image}",
        "SK": sk,
        "TYPE": "RECEIPT_WORD",
        "embedding_status": status,
        "is_noise": status == "NOISE",
        "GSI1PK": f"EMBEDDING_STATUS#{status}",
        "GSI1SK": f"IMAGE#{image}#{sk}",
        "text": "milk",
        **extra,
    }


def line(image: str, receipt: int, number: int, status: str) -> dict[str, Any]:
    sk = f"RECEIPT#{receipt:05d}#LINE#{number:05d}"
    return {
        "PK": f"IMAGE#{image}",
        "SK": sk,
        "TYPE": "RECEIPT_LINE",
        "embedding_status": status,
        "GSI1PK": f"EMBEDDING_STATUS#{status}",
        "GSI1SK": f"IMAGE#{image}#{sk}",
        "text": "milk 2.00",
    }


def batch(batch_id: str, batch_type: str, status: str) -> dict[str, Any]:
    return {
        "PK": f"BATCH#{batch_id}",
        "SK": "STATUS",
        "TYPE": "BATCH_SUMMARY",
        "batch_type": batch_type,
        "status": status,
        "GSI1PK": f"STATUS#{status}",
        "GSI1SK": f"BATCH_TYPE#{batch_type}#BATCH_ID#{batch_id}",
        "receipt_refs": [{"image_id": "img", "receipt_id": 1}],
    }


def lock(collection: str, expires: str, lock_id: str = "lock-1") -> dict[str, Any]:
    return {
        "PK": f"LOCK#{collection}#{lock_id}",
        "SK": "LOCK",
        "TYPE": "COMPACTION_LOCK",
        "owner": "compactor",
        "expires": expires,
        "collection": collection,
    }


def make_state_machine(sfn, name: str) -> str:
    definition = json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}})
    return sfn.create_state_machine(name=name, definition=definition, roleArn="arn:aws:iam::123456789012:role/sfn")[
        "stateMachineArn"
    ]


def start(sfn, machine_arn: str, names: list[str]) -> list[str]:
    return [sfn.start_execution(stateMachineArn=machine_arn, name=n)["executionArn"] for n in names]


def execution_statuses(sfn, machine_arns: list[str]) -> dict[str, str]:
    found = {}
    for arn in machine_arns:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
            found |= {e["executionArn"]: e["status"] for e in page["executions"]}
    return found


POINTER = "words/snapshot/latest-pointer.txt"
DELTA = "words/delta/run-1/delta.tar.gz"


def snapshot_bucket(s3, name: str) -> str:
    """A bucket with one snapshot key and one delta: `cleaned` tells which of several buckets a run cleaned."""
    make_bucket(s3, name)
    put_keys(s3, name, [POINTER, DELTA])
    return name


def cleaned(s3, name: str) -> bool:
    keys = current_keys(s3, name)
    assert DELTA in keys  # the deltas always stay
    return POINTER not in keys
