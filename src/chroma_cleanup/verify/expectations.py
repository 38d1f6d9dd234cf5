"""What DynamoDB says a snapshot should hold: the SUCCESS items' ids and the newest receipts."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from chroma_cleanup.aws.dynamo import Table
from chroma_cleanup.layout import Layout


@dataclass(frozen=True)
class RecentReceipt:
    image_id: str
    receipt_id: str  # "RECEIPT#00001", as in the ids
    timestamp_added: str

    @property
    def id_prefix(self) -> str:
        return f"IMAGE#{self.image_id}#{self.receipt_id}#"

    @property
    def label(self) -> str:
        return f"IMAGE#{self.image_id}#{self.receipt_id}"


def success_ids(table: Table, layout: Layout, collection: str) -> set[str]:
    """Snapshot ids (`PK#SK`) of the items of this collection whose embedding_status is SUCCESS."""
    where = ("#a2 = :success", {":success": layout.success_status})
    items = table.items_of_type(layout.item_type_for(collection), ("PK", "SK", "embedding_status"), where)
    return {f"{item['PK']}#{item['SK']}" for item in items}


def recent_receipts(table: Table, layout: Layout, limit: int) -> list[RecentReceipt]:
    """The `limit` newest receipts by timestamp_added, streamed so the table is never held whole."""
    items = table.items_of_type(layout.receipt_type, ("PK", "SK", "timestamp_added"))
    newest = heapq.nlargest(limit, items, key=lambda item: str(item.get("timestamp_added", "")))
    return [
        RecentReceipt(str(i["PK"]).removeprefix("IMAGE#"), str(i["SK"]), str(i.get("timestamp_added", "")))
        for i in newest
    ]
