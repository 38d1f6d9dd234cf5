"""What verify reports: one Check per question, gathered in a LocalReport."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["pass", "warn", "fail", "skip"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


@dataclass
class LocalReport:
    """The checks of one snapshot folder, and what its SQLite holds for the collection.

    `embeddings` and `ids` are None when SQLite could not be trusted to say.
    """

    checks: list[Check] = field(default_factory=list)
    embeddings: int | None = None
    ids: set[str] | None = None

    @property
    def failed(self) -> bool:
        return any(check.status == "fail" for check in self.checks)
