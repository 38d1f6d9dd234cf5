"""Seed a local AWS with one environment laid out exactly like the real deployment."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from chroma_cleanup.aws.clients import AwsSession
from chroma_cleanup.sandbox.damage import damage_snapshot
from chroma_cleanup.sandbox.data import Record, SandboxData, make_data

SUFFIX = "a1b2c3d"
DIMENSIONS = 64  # the real pipeline uses 1,536; small vectors keep the sandbox quick to start
_serialize = TypeSerializer().serialize


@dataclass(frozen=True)
class Seeded:
    env: str
    bucket: str
    table: str
    state_machines: dict[str, str]  # name -> ARN
    outputs: dict[str, Any]
    data: SandboxData
    versions: dict[str, list[str]]  # collection -> snapshot versions, newest last


def seed(session: AwsSession, env: str = "sandbox", receipts: int = 200, corrupt: tuple[str, ...] = ()) -> Seeded:
    data = make_data(receipts)
    bucket = f"chromadb-{env}-shared-buckets-vectors-{SUFFIX}"
    table = f"ReceiptsTable-{env}-{SUFFIX}"
    versions = _seed_bucket(session, bucket, data, corrupt)
    _seed_table(session, table, data)
    machines = _seed_state_machines(session, env)
    outputs = {
        "dynamodb_table_name": table,
        "embedding_chromadb_bucket_name": bucket,
        "embedding_word_ingest_sf_arn": machines[f"word-ingest-sf-{env}-{SUFFIX}"],
        "embedding_line_ingest_sf_arn": machines[f"line-ingest-sf-{env}-{SUFFIX}"],
        "embedding_word_submit_sf_arn": machines[f"word-submit-sf-{env}-{SUFFIX}"],
        "embedding_line_submit_sf_arn": machines[f"line-submit-sf-{env}-{SUFFIX}"],
        "openai_api_key": {"secret": True, "value": "[secret]"},
    }
    return Seeded(env, bucket, table, machines, outputs, data, versions)


def embedding(record_id: str) -> list[float]:
    """A deterministic vector per id, so a verify can recompute it."""
    digest = hashlib.sha256(record_id.encode()).digest() * 2
    return [(b - 127.5) / 127.5 for b in digest[:DIMENSIONS]]


def _metadata(record: Record) -> dict[str, Any]:
    meta: dict[str, Any] = {"image_id": record.image_id, "receipt_id": record.receipt_id, "text": record.text}
    meta["line_id"] = record.line_id
    if record.word_id is not None:
        meta["word_id"] = record.word_id
    return meta


def upload_folder(s3: Any, bucket: str, folder: Path, prefix: str) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, prefix + path.relative_to(folder).as_posix())


def _directory_hash(folder: Path) -> str:
    md5 = hashlib.md5()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != ".snapshot_hash"):
        md5.update(path.relative_to(folder).as_posix().encode())
        md5.update(path.read_bytes())
    return md5.hexdigest()


def _seed_bucket(session: AwsSession, bucket: str, data: SandboxData, corrupt: tuple[str, ...]) -> dict:
    from chroma_cleanup.snapshot_builder import build_snapshot

    s3 = session.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for key in ("snapshot/.placeholder", "delta/.placeholder", "snapshot/latest/pointer.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"managed by Pulumi")
    for scratch in ("intermediate", "chunks", "chunk_groups", "poll_results", "poll_manifests"):
        for n in range(3):
            s3.put_object(Bucket=bucket, Key=f"{scratch}/run-{n:03d}/part.json", Body=b"{}")
    now = datetime.now(UTC)
    stamps = [(now - timedelta(days=d)).strftime("%Y%m%d_%H%M%S") for d in (14, 7, 0)]
    versions = {}
    for collection, records in (("words", data.words), ("lines", data.lines)):
        embedded = [r for r in records if r.status == "SUCCESS"]
        for n in range(0, 40, 2):
            kind = f"words/receipt_words/{n:05d}" if collection == "words" else f"run-{n:05d}"
            s3.put_object(Bucket=bucket, Key=f"{collection}/delta/{kind}/delta.tar.gz", Body=b"\x1f\x8b delta")
        with tempfile.TemporaryDirectory(prefix="chroma-cleanup-sandbox-") as tmp:
            folder = Path(tmp) / collection
            build_snapshot(
                folder,
                collection,
                [r.chroma_id for r in embedded],
                [embedding(r.chroma_id) for r in embedded],
                [_metadata(r) for r in embedded],
            )
            if collection in corrupt:
                damage_snapshot(folder)
            (folder / ".snapshot_hash").write_text(json.dumps({"directory_hash": _directory_hash(folder)}))
            for stamp in stamps:
                upload_folder(s3, bucket, folder, f"{collection}/snapshot/timestamped/{stamp}/")
                # The pointer is rewritten at each version, so the bucket keeps its history.
                s3.put_object(Bucket=bucket, Key=f"{collection}/snapshot/latest-pointer.txt", Body=stamp.encode())
            if collection == "words":
                upload_folder(s3, bucket, folder, f"{collection}/snapshot/latest/")
        versions[collection] = stamps
    for n in range(3):
        s3.put_object(Bucket=bucket, Key=f"delta/legacy-{n}/delta.tar.gz", Body=b"\x1f\x8b legacy delta")
    return versions


def _put_items(ddb: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):  # BatchWriteItem's limit on AWS
        requests = [
            {"PutRequest": {"Item": {k: _serialize(v) for k, v in item.items()}}} for item in items[start : start + 25]
        ]
        pending = {table: requests}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _record_item(record: Record, item_type: str) -> dict[str, Any]:
    return {
        "PK": f"IMAGE#{record.image_id}",
        "SK": record.sk,
        "TYPE": item_type,
        "text": record.text,
        "embedding_status": record.status,
        "is_noise": record.status == "NOISE",
        "GSI1PK": f"EMBEDDING_STATUS#{record.status}",
        "GSI1SK": record.chroma_id,
    }


def _seed_table(session: AwsSession, table: str, data: SandboxData) -> None:
    ddb = session.client("dynamodb")
    key = [{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}]

    def index(name: str, hash_key: str, range_key: str | None) -> dict[str, Any]:
        schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
        if range_key:
            schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
        return {"IndexName": name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}

    attributes = ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "TYPE"]
    ddb.create_table(
        TableName=table,
        KeySchema=key,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        GlobalSecondaryIndexes=[
            index("GSI1", "GSI1PK", "GSI1SK"),
            index("GSI2", "GSI2PK", "GSI2SK"),
            index("GSITYPE", "TYPE", None),
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    items: list[dict[str, Any]] = []
    for receipt in data.receipts:
        items.append(
            {
                "PK": f"IMAGE#{receipt.image_id}",
                "SK": f"RECEIPT#{receipt.receipt_id:05d}",
                "TYPE": "RECEIPT",
                "timestamp_added": receipt.timestamp_added,
                "GSI2PK": "RECEIPT",
                "GSI2SK": f"IMAGE#{receipt.image_id}#RECEIPT#{receipt.receipt_id:05d}",
            }
        )
    items += [_record_item(r, "RECEIPT_LINE") for r in data.lines]
    items += [_record_item(r, "RECEIPT_WORD") for r in data.words]
    for batch in data.batches:
        items.append(
            {
                "PK": f"BATCH#{batch['batch_id']}",
                "SK": "STATUS",
                "TYPE": "BATCH_SUMMARY",
                "batch_type": batch["batch_type"],
                "status": batch["status"],
                "receipt_refs": batch["receipt_refs"],
                "GSI1PK": f"STATUS#{batch['status']}",
                "GSI1SK": f"BATCH_TYPE#{batch['batch_type']}#BATCH_ID#{batch['batch_id']}",
            }
        )
    expired = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    items.append(
        {
            "PK": "LOCK#words#sandbox-compaction",
            "SK": "LOCK",
            "TYPE": "COMPACTION_LOCK",
            "owner": "compaction-sandbox",
            "expires": expired,
            "collection": "words",
        }
    )
    _put_items(ddb, table, items)


def _seed_state_machines(session: AwsSession, env: str) -> dict[str, str]:
    sfn = session.client("stepfunctions")
    definition = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    role = "arn:aws:iam::123456789012:role/sandbox-step-functions"
    machines = {}
    for kind in ("word-ingest", "line-ingest", "word-submit", "line-submit"):
        name = f"{kind}-sf-{env}-{SUFFIX}"
        machines[name] = sfn.create_state_machine(name=name, definition=definition, roleArn=role)["stateMachineArn"]
    epoch = int(time.time())
    for n, kind in enumerate(("word-ingest", "word-ingest", "line-ingest")):
        collection = kind.split("-")[0]
        sfn.start_execution(
            stateMachineArn=machines[f"{kind}-sf-{env}-{SUFFIX}"], name=f"manual-run-{epoch + n}-{collection}"
        )
    return machines
