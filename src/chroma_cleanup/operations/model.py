"""Plans and results shared by every cleanup step."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

MAX_EXAMPLES = 5
MAX_ERRORS = 100  # every failure is counted; only this many are listed


@dataclass(frozen=True)
class StepError:
    id: str
    code: str
    message: str


@dataclass
class StepResult:
    """One step of a run: what was planned, then what happened to each planned item."""

    step: str
    target: str
    collection: str | None = None
    planned: int = 0
    changed: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[StepError] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    skip_reasons: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    refused: str | None = None
    applied: bool = False

    def example(self, text: str) -> None:
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(text)

    def skip(self, reason: str) -> None:
        self.skipped += 1
        self.skip_reasons[reason] += 1

    def fail(self, item_id: str, code: str, message: str) -> None:
        self.failed += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(StepError(item_id, code, message))

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "target": self.target,
            "collection": self.collection,
            "planned": self.planned,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "failed": self.failed,
            "errors": [e.__dict__ for e in self.errors],
            "examples": self.examples,
            "skip_reasons": dict(self.skip_reasons),
            "warnings": self.warnings,
            "refused": self.refused,
            "applied": self.applied,
        }


class Progress(Protocol):
    """Told how far an apply has got; the CLI draws it on stderr."""

    def start(self, description: str, total: int) -> None: ...

    def advance(self, amount: int = 1) -> None: ...

    def stop(self) -> None: ...


class NoProgress:
    def start(self, description: str, total: int) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass

    def stop(self) -> None:
        pass


class Step(Protocol):
    """A cleanup step: `plan` reads only; `apply` changes what the plan found."""

    def plan(self) -> StepResult: ...

    def apply(self, result: StepResult, progress: Progress) -> StepResult: ...


@dataclass
class RunResult:
    command: str
    env: str | None
    dry_run: bool
    steps: list[StepResult]
    warnings: list[str] = field(default_factory=list)
    confirmed: bool = False
    interrupted: bool = False  # Ctrl-C while applying: the steps say how far it got

    @property
    def status(self) -> str:
        failed = sum(s.failed for s in self.steps) + sum(1 for s in self.steps if s.refused)
        if not failed:
            return "ok"
        return "partial" if any(s.changed for s in self.steps) else "failed"

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        return 0 if self.status == "ok" else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "env": self.env,
            "dry_run": self.dry_run,
            "status": self.status,
            "interrupted": self.interrupted,
            "warnings": self.warnings,
            "steps": [s.as_dict() for s in self.steps],
        }
