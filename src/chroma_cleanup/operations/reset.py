"""Reset a status on every item of one TYPE, moving its status-index key (GSI1PK) in the same write."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from chroma_cleanup.aws.dynamo import Table, UpdateFailed
from chroma_cleanup.operations.model import Progress, StepResult

_KEY = ("PK", "SK")


@dataclass(frozen=True)
class ResetRule:
    """What to reset: items of `item_type` get `status_attribute = status` and `index_key = index_value`."""

    step: str
    item_type: str
    status_attribute: str
    status: str
    index_key: str
    index_value: str
    skip_statuses: dict[str, str] = field(default_factory=dict)  # status -> reason for leaving it alone
    collection: str | None = None
    filter_attribute: str | None = None
    filter_values: tuple[str, ...] = ()

    @property
    def attributes(self) -> tuple[str, ...]:
        extra = (self.filter_attribute,) if self.filter_attribute else ()
        return (*_KEY, self.status_attribute, self.index_key, *extra)

    def where(self) -> tuple[str, dict[str, Any]] | None:
        if not self.filter_attribute:
            return None
        values = {f":f{i}": v for i, v in enumerate(self.filter_values)}
        return f"#a4 IN ({', '.join(values)})", values

    def verdict(self, item: dict[str, Any]) -> str:
        """ "change", "unchanged", or the reason to skip the item."""
        status = item.get(self.status_attribute)
        if status in self.skip_statuses:
            return self.skip_statuses[status]
        if status == self.status and item.get(self.index_key) == self.index_value:
            return "unchanged"
        return "change"


@dataclass
class ResetItems:
    table: Table
    rule: ResetRule
    target: str
    workers: int = 8

    def _items(self) -> Iterator[dict[str, Any]]:
        return self.table.items_of_type(self.rule.item_type, self.rule.attributes, self.rule.where())

    def plan(self) -> StepResult:
        result = StepResult(self.rule.step, self.target, self.rule.collection)
        for item in self._items():
            verdict = self.rule.verdict(item)
            if verdict == "change":
                result.planned += 1
                result.example(f"{item['PK']} {item['SK']}: {item.get(self.rule.status_attribute)}")
            elif verdict == "unchanged":
                result.unchanged += 1
            else:
                result.skip(verdict)
        return result

    def apply(self, result: StepResult, progress: Progress) -> StepResult:
        """Stream the items again and update those that still need it, at most `workers` at a time."""
        result.applied = True
        result.unchanged, result.skipped = 0, 0
        result.skip_reasons.clear()
        lock = threading.Lock()
        in_flight = threading.BoundedSemaphore(self.workers * 2)  # keeps memory flat: no backlog of items
        changes = {self.rule.status_attribute: self.rule.status, self.rule.index_key: self.rule.index_value}
        progress.start(f"resetting {self.target}", result.planned)

        def update(key: dict[str, str]) -> None:
            try:
                existed = self.table.update(key, changes)
                with lock:
                    if existed:
                        result.changed += 1
                    else:
                        result.skip("item no longer exists")
            except UpdateFailed as exc:
                with lock:
                    result.fail(f"{key['PK']} {key['SK']}", exc.code, exc.message)
            except Exception as exc:  # noqa: BLE001 - a worker must count every item, whatever went wrong
                with lock:
                    result.fail(f"{key['PK']} {key['SK']}", type(exc).__name__, str(exc))
            finally:
                in_flight.release()
                progress.advance()

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="reset") as pool:
            for item in self._items():
                verdict = self.rule.verdict(item)
                with lock:
                    if verdict == "unchanged":
                        result.unchanged += 1
                        continue
                    if verdict != "change":
                        result.skip(verdict)
                        continue
                in_flight.acquire()
                pool.submit(update, {"PK": item["PK"], "SK": item["SK"]})
        progress.stop()
        return result
