"""Time a whole `chroma-cleanup verify` of word snapshots (10,000 and 50,000 x 1,536) through moto's server.

This counts everything a user waits for: locating the snapshot, downloading it from S3, every check, the
ChromaDB probe, and reading DynamoDB's SUCCESS items and newest receipts. Snapshots come from .bench-cache/
(built by verify_speed.py if missing). Run: .venv/bin/python benchmarks/verify_end_to_end.py
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
from boto3.dynamodb.types import TypeSerializer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verify_speed import SIZES, snapshot  # noqa: E402

from chroma_cleanup.snapshot_builder import word_records  # noqa: E402

_ser = TypeSerializer().serialize
KEYS = {"region_name": "us-east-1", "aws_access_key_id": "bench", "aws_secret_access_key": "bench"}


def publish(endpoint: str, folder: Path, count: int) -> tuple[str, str]:
    s3 = boto3.client("s3", endpoint_url=endpoint, **KEYS)
    ddb = boto3.client("dynamodb", endpoint_url=endpoint, **KEYS)
    bucket, table, version = f"bench-{count}", f"bench-{count}", "20250101_000000"
    s3.create_bucket(Bucket=bucket)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, f"words/snapshot/timestamped/{version}/{path.relative_to(folder)}")
    s3.put_object(Bucket=bucket, Key="words/snapshot/latest-pointer.txt", Body=version.encode())
    ddb.create_table(
        TableName=table,
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
    ids, _ = word_records(count)
    items, receipts = [], {}
    for word_id in ids:
        pk, sk = word_id.split("#RECEIPT#", 1)
        items.append({"PK": pk, "SK": "RECEIPT#" + sk, "TYPE": "RECEIPT_WORD", "embedding_status": "SUCCESS"})
        receipts.setdefault((pk, "RECEIPT#" + sk.split("#")[0]), len(receipts))
    for (pk, sk), n in receipts.items():
        items.append({"PK": pk, "SK": sk, "TYPE": "RECEIPT", "timestamp_added": f"2025-01-01T00:00:{n % 60:02d}"})
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": {k: _ser(v) for k, v in i.items()}}} for i in items[start : start + 25]]
        ddb.batch_write_item(RequestItems={table: batch})
    return bucket, table


def main() -> None:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    print(f"{'records':>8} {'verify s':>9}  result")
    try:
        for count in SIZES:
            bucket, table = publish(endpoint, snapshot(count), count)
            command = [
                sys.executable,
                "-m",
                "chroma_cleanup",
                "verify",
                "--collection",
                "words",
                "--bucket",
                bucket,
                "--table",
                table,
                "--endpoint-url",
                endpoint,
                "--json",
            ]
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
            seconds = time.perf_counter() - started
            doc = json.loads(done.stdout)
            failed = [c["name"] for c in doc["collections"][0]["checks"] if c["status"] != "pass"]
            print(f"{count:>8,} {seconds:>9.1f}  {doc['status']} {failed or 'every check passed'}", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
