"""The sandbox's receipts, words, lines and batches: deterministic, so every run seeds the same data."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Record:
    """A word or a line: its table item and, when embedded, its id in the snapshot."""

    image_id: str
    receipt_id: int
    line_id: int
    word_id: int | None  # None for a line
    status: str
    text: str

    @property
    def sk(self) -> str:
        base = f"RECEIPT#{self.receipt_id:05d}#LINE#{self.line_id:05d}"
        return base if self.word_id is None else f"{base}#WORD#{self.word_id:05d}"

    @property
    def chroma_id(self) -> str:
        return f"IMAGE#{self.image_id}#{self.sk}"


@dataclass(frozen=True)
class Receipt:
    image_id: str
    receipt_id: int
    timestamp_added: str


@dataclass
class SandboxData:
    receipts: list[Receipt] = field(default_factory=list)
    words: list[Record] = field(default_factory=list)
    lines: list[Record] = field(default_factory=list)
    batches: list[dict] = field(default_factory=list)


_WORDS = "milk bread eggs total tax cash change coffee tea apple rice soap visa thank you".split()


def make_data(receipts: int = 200, seed: int = 7, now: datetime | None = None) -> SandboxData:
    """`receipts` receipts of 3 lines x 2 words; most words SUCCESS, some NOISE, FAILED and PENDING."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    data = SandboxData()
    for n in range(receipts):
        image_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        receipt_id = 1 + n % 2
        added = now - timedelta(days=30) + timedelta(seconds=n * (30 * 86400 // max(receipts, 1)))
        data.receipts.append(Receipt(image_id, receipt_id, added.isoformat()))
        for line_id in range(1, 4):
            line_status = rng.choices(["SUCCESS", "FAILED", "PENDING"], [90, 5, 5])[0]
            words = [rng.choice(_WORDS) for _ in range(2)]
            data.lines.append(Record(image_id, receipt_id, line_id, None, line_status, " ".join(words)))
            for word_id, text in enumerate(words, start=1):
                status = rng.choices(["SUCCESS", "NOISE", "FAILED", "PENDING"], [85, 8, 4, 3])[0]
                data.words.append(Record(image_id, receipt_id, line_id, word_id, status, text))
    statuses = ["COMPLETED", "COMPLETED", "COMPLETED", "FAILED", "IN_PROGRESS", "PENDING", "EXPIRED"]
    for n in range(60):
        batch_type = "WORD_EMBEDDING" if n % 3 else "LINE_EMBEDDING"
        refs = [{"image_id": r.image_id, "receipt_id": r.receipt_id} for r in rng.sample(data.receipts, 3)]
        data.batches.append(
            {
                "batch_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "batch_type": batch_type,
                "status": rng.choice(statuses),
                "receipt_refs": refs,
            }
        )
    return data
