"""Time a whole `chroma-cleanup verify` of word snapshots (10,000 and 50,000 x 1,536) through moto's server.

This counts everything a user waits for: locating the snapshot, downloading it from S3, every check, the
ChromaDB probe, and reading DynamoDB's SUCCESS items and newest receipts. Snapshots come from .bench-cache/
(built by verify_speed.py if missing). Run: .venv/bin/python benchmarks/verify_end_to_end.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_aws import CHILD_ENV, client, create_table, put_items  # noqa: E402
from verify_speed import SIZES, snapshot  # noqa: E402

from chroma_cleanup.sandbox.server import LocalAws  # noqa: E402
from chroma_cleanup.snapshot_builder import word_records  # noqa: E402


def publish(endpoint: str, folder: Path, count: int) -> tuple[str, str]:
    s3, ddb = client("s3", endpoint), client("dynamodb", endpoint)
    bucket, version = f"bench-{count}", "20250101_000000"
    s3.create_bucket(Bucket=bucket)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, f"words/snapshot/timestamped/{version}/{path.relative_to(folder)}")
    s3.put_object(Bucket=bucket, Key="words/snapshot/latest-pointer.txt", Body=version.encode())
    table = create_table(ddb, f"bench-{count}")
    ids, _ = word_records(count)
    items, receipts = [], {}
    for word_id in ids:
        pk, sk = word_id.split("#RECEIPT#", 1)
        items.append({"PK": pk, "SK": "RECEIPT#" + sk, "TYPE": "RECEIPT_WORD", "embedding_status": "SUCCESS"})
        receipts.setdefault((pk, "RECEIPT#" + sk.split("#")[0]), len(receipts))
    for (pk, sk), n in receipts.items():
        items.append({"PK": pk, "SK": sk, "TYPE": "RECEIPT", "timestamp_added": f"2025-01-01T00:00:{n % 60:02d}"})
    put_items(ddb, table, items)
    return bucket, table


def main() -> None:
    aws = LocalAws()
    endpoint = aws.start()
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
            done = subprocess.run(command, capture_output=True, text=True, env=CHILD_ENV, stdin=subprocess.DEVNULL)
            seconds = time.perf_counter() - started
            doc = json.loads(done.stdout)
            failed = [c["name"] for c in doc["collections"][0]["checks"] if c["status"] != "pass"]
            print(f"{count:>8,} {seconds:>9.1f}  {doc['status']} {failed or 'every check passed'}", flush=True)
    finally:
        aws.stop()


if __name__ == "__main__":
    main()
