"""Compaction locks: an unexpired one means a compaction is writing a snapshot right now."""

from __future__ import annotations

from datetime import UTC, datetime

from chroma_cleanup.aws.dynamo import Table
from chroma_cleanup.layout import Layout


def _expires(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _applies_to(item: dict, collection: str, collections: tuple[str, ...]) -> bool:
    if item.get("collection"):
        return item["collection"] == collection
    pk = str(item.get("PK", ""))
    named = [c for c in collections if pk.startswith(f"LOCK#{c}#")]
    # An older lock (`LOCK#{id}`) names no collection: it may guard either, so it guards both.
    return not named or collection in named


def active_locks(table: Table, layout: Layout, collection: str, now: datetime | None = None) -> list[str]:
    """Descriptions of the locks on `collection` that have not expired (or whose expiry cannot be read)."""
    now = now or datetime.now(UTC)
    found = []
    for item in table.items_of_type(layout.lock_type, ("PK", "collection", "owner", "expires")):
        if not _applies_to(item, collection, layout.collections):
            continue
        expires = _expires(item.get("expires"))
        if expires is None or expires > now:
            until = expires.isoformat() if expires else f"unreadable expiry {item.get('expires')!r}"
            found.append(f"{item.get('PK')} held by {item.get('owner', '?')} until {until}")
    return found
