"""Play the fixed pipeline on a running sandbox: embed every reset word and line again and upload healthy
snapshots, so the demo's last `verify` has something to check. Not part of the tool."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from boto3.dynamodb.types import TypeDeserializer

from chroma_cleanup import sandbox_state
from chroma_cleanup.aws.clients import AwsSession
from chroma_cleanup.sandbox.seed import embedding, upload_folder
from chroma_cleanup.snapshot_builder import build_snapshot

_de = TypeDeserializer().deserialize


def items(ddb, table: str, item_type: str):
    pages = ddb.get_paginator("query").paginate(
        TableName=table,
        IndexName="GSITYPE",
        KeyConditionExpression="#t = :t",
        ExpressionAttributeNames={"#t": "TYPE"},
        ExpressionAttributeValues={":t": {"S": item_type}},
    )
    for page in pages:
        yield from ({k: _de(v) for k, v in raw.items()} for raw in page["Items"])


def set_status(ddb, table: str, item: dict, attribute: str, status: str, index_value: str) -> None:
    ddb.update_item(
        TableName=table,
        Key={"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
        UpdateExpression="SET #s = :s, GSI1PK = :g",
        ExpressionAttributeNames={"#s": attribute},
        ExpressionAttributeValues={":s": {"S": status}, ":g": {"S": index_value}},
    )


def main() -> None:
    state = sandbox_state.load_running()
    session = AwsSession(
        region=state.region, endpoint_url=state.endpoint_url, credentials=sandbox_state.SANDBOX_CREDENTIALS
    )
    ddb, s3 = session.client("dynamodb"), session.client("s3")
    table, bucket = state.outputs["dynamodb_table_name"], state.outputs["embedding_chromadb_bucket_name"]
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
    for collection, item_type in (("words", "RECEIPT_WORD"), ("lines", "RECEIPT_LINE")):
        ids, metadatas = [], []
        for item in items(ddb, table, item_type):
            if item["embedding_status"] == "NOISE":
                continue
            if item["embedding_status"] != "SUCCESS":
                set_status(ddb, table, item, "embedding_status", "SUCCESS", "EMBEDDING_STATUS#SUCCESS")
            ids.append(f"{item['PK']}#{item['SK']}")
            receipt = int(item["SK"].split("#")[1])
            metadatas.append({"image_id": item["PK"].removeprefix("IMAGE#"), "receipt_id": receipt})
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / collection
            build_snapshot(folder, collection, ids, [embedding(i) for i in ids], metadatas)
            upload_folder(s3, bucket, folder, f"{collection}/snapshot/timestamped/{stamp}/")
        s3.put_object(Bucket=bucket, Key=f"{collection}/snapshot/latest-pointer.txt", Body=stamp.encode())
        print(f"pipeline: embedded {len(ids):,} {collection} into snapshot {stamp}")
    for batch in items(ddb, table, "BATCH_SUMMARY"):
        if batch["batch_type"] == "WORD_EMBEDDING" and batch["status"] == "PENDING":
            set_status(ddb, table, batch, "status", "COMPLETED", "STATUS#COMPLETED")


if __name__ == "__main__":
    main()
