"""Human tables and the one JSON document; nothing else in the package prints results."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chroma_cleanup.operations.model import RunResult, StepResult

_COUNTS = ("planned", "changed", "unchanged", "skipped", "failed")


def step_table(step: StepResult) -> Table:
    title = f"{step.step} ({step.collection})" if step.collection else step.step
    table = Table(title=title, title_justify="left", title_style="bold", show_edge=False)
    table.add_column("target", overflow="fold")
    for name in _COUNTS:
        table.add_column(name, justify="right", style="red" if name == "failed" and step.failed else None)
    table.add_row(escape(step.target), *(f"{getattr(step, name):,}" for name in _COUNTS))
    return table


def step_notes(step: StepResult, dry_run: bool) -> list[str]:
    notes = []
    if step.refused:
        notes.append(f"[red]refused:[/] {escape(step.refused)}")
    if step.examples and (dry_run or not step.applied):
        verb = "would change" if dry_run else "to change"
        notes.append(escape(f"{verb}, e.g.: " + "; ".join(step.examples[:3])))
    for reason, count in step.skip_reasons.items():
        notes.append(escape(f"skipped {count:,}: {reason}"))
    for error in step.errors[:10]:
        notes.append("[red]failed[/] " + escape(f"{error.id}: {error.code} {error.message}"))
    if step.failed > 10:
        notes.append(f"… and {step.failed - 10:,} more failures (see --json)")
    notes.extend(f"[yellow]warning:[/] {escape(w)}" for w in step.warnings)
    return notes


def summary(run: RunResult) -> str:
    total = {name: sum(getattr(s, name) for s in run.steps) for name in _COUNTS}
    if any(s.refused for s in run.steps):
        return f"{run.command}: refused, nothing was changed"
    if run.dry_run:
        return f"{run.command} (dry run): {total['planned']:,} would change; nothing was changed"
    if not total["planned"]:
        return f"{run.command}: nothing to change ({total['unchanged']:,} already done, {total['skipped']:,} skipped)"
    if not run.confirmed:  # the plan shown before the confirmation prompt
        return f"{run.command} plan: {total['planned']:,} would change"
    return (
        f"{run.command}: {run.status} - changed {total['changed']:,}, unchanged {total['unchanged']:,}, "
        f"skipped {total['skipped']:,}, failed {total['failed']:,}"
    )


def show_warnings(console: Console, run: RunResult) -> None:
    for warning in run.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)


def show_run(console: Console, run: RunResult) -> None:
    for step in run.steps:
        console.print(step_table(step))
        for note in step_notes(step, run.dry_run):
            console.print(f"  {note}", highlight=False, soft_wrap=True)
        console.print()
    style = "green" if run.status == "ok" else "red"
    console.print(f"[{style}]{escape(summary(run))}[/]", highlight=False, soft_wrap=True)


def print_json(doc: dict[str, Any]) -> None:
    """Exactly one JSON document on stdout."""
    print(json.dumps(doc, indent=2, default=str))


class RichProgress:
    """A progress bar on stderr, safe to advance from worker threads."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._progress: Progress | None = None
        self._task = None

    def start(self, description: str, total: int) -> None:
        if not self._console.is_terminal:
            return  # a bar redrawn into a log file or pipe only leaves blank lines behind
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self._console,
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, amount)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def show_config(console: Console, report: dict[str, Any]) -> None:
    table = Table(title="chroma-cleanup configuration", title_justify="left", show_edge=False)
    table.add_column("name")
    table.add_column("value", overflow="fold")
    table.add_column("from", style="dim", overflow="fold")
    for name, entry in report["values"].items():
        if isinstance(entry, dict):
            value = entry["value"]
            shown = "\n".join(value) if isinstance(value, (list, tuple)) else str(value)
            table.add_row(name, escape(shown or "-"), escape(entry["source"]))
        else:
            table.add_row(name, "-" if entry is None else escape(str(entry)), "")
    console.print(table)
    for name, why in report["missing"].items():
        console.print(f"[red]missing {name}:[/] {escape(why)}", highlight=False, soft_wrap=True)


_STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "skip": "dim"}


def show_verify(console: Console, reports: list) -> None:
    for report in reports:
        title = f"{report.collection}: {report.source or 'no snapshot'}"
        if report.version:
            title += f" (version {report.version})"
        table = Table(title=escape(title), title_justify="left", title_style="bold", show_edge=False)
        table.add_column("check")
        table.add_column("result")
        table.add_column("detail", overflow="fold")
        for check in report.checks:
            style = _STATUS_STYLE[check.status]
            table.add_row(check.name, f"[{style}]{check.status}[/]", escape(check.detail))
        console.print(table)
        for missing in report.recent.missing[:10]:
            console.print(
                f"  [red]incomplete[/] {escape(missing['receipt'])}: {missing['found']} of {missing['expected']} found",
                highlight=False,
                soft_wrap=True,
            )
        verdict = "[green]healthy[/]" if report.healthy else "[red]NOT healthy[/]"
        count = f"{report.embeddings:,} embeddings" if report.embeddings is not None else "embeddings unknown"
        console.print(f"{report.collection}: {verdict}, {count}", highlight=False, soft_wrap=True)
        console.print()
    bad = [r.collection for r in reports if not r.healthy]
    line = f"[red]verify: failed ({', '.join(bad)})[/]" if bad else "[green]verify: every snapshot is healthy[/]"
    console.print(line, highlight=False, soft_wrap=True)
