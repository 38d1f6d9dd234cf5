"""Compare a snapshot's ids with what DynamoDB says it should hold."""

from __future__ import annotations

from dataclasses import dataclass, field

from chroma_cleanup.verify.expectations import RecentReceipt
from chroma_cleanup.verify.result import Check


@dataclass
class RecentReceipts:
    checked: int = 0
    complete: int = 0
    missing: list[dict] = field(default_factory=list)  # {"receipt", "expected", "found"}

    def as_dict(self) -> dict:
        return {"checked": self.checked, "complete": self.complete, "missing": self.missing}


def check_counts(snapshot_ids: set[str], expected: set[str], item_type: str) -> Check:
    """Compares the ids, not just their numbers: the right count of the wrong ids is no healthy snapshot."""
    detail = f"{len(snapshot_ids):,} embeddings in the snapshot, {len(expected):,} {item_type} items with SUCCESS"
    if missing := expected - snapshot_ids:
        why = "fewer embeddings than expected" if len(snapshot_ids) < len(expected) else "not the same ids"
        return Check("counts", "fail", f"{detail}: {why}; {len(missing):,} are missing, e.g. {min(missing)}")
    if extra := snapshot_ids - expected:
        return Check("counts", "warn", f"{detail}: {len(extra):,} more than expected, e.g. {min(extra)}")
    return Check("counts", "pass", detail)


def check_recent(
    receipts: list[RecentReceipt], expected: set[str], snapshot_ids: set[str]
) -> tuple[Check, RecentReceipts]:
    """Every SUCCESS id of each recent receipt must be in the snapshot."""
    summary = RecentReceipts(checked=len(receipts))
    for receipt in receipts:
        wanted = {i for i in expected if i.startswith(receipt.id_prefix)}
        found = len(wanted & snapshot_ids)
        if found == len(wanted):
            summary.complete += 1
        else:
            summary.missing.append({"receipt": receipt.label, "expected": len(wanted), "found": found})
    if not receipts:
        return Check("recent_receipts", "warn", "no receipts in the table"), summary
    detail = f"{summary.complete} of {summary.checked} newest receipts complete"
    if summary.missing:
        worst = summary.missing[0]
        detail += f"; e.g. {worst['receipt']}: {worst['found']} of {worst['expected']} found"
        return Check("recent_receipts", "fail", detail), summary
    return Check("recent_receipts", "pass", detail), summary
