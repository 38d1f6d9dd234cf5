"""Plan every step, stop there on a dry run, ask once, then apply the steps in order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chroma_cleanup.operations.model import Progress, RunResult, Step


def run(
    command: str,
    env: str | None,
    steps: Sequence[Step],
    *,
    dry_run: bool,
    confirm: Callable[[RunResult], None],
    progress: Progress,
    warnings: Sequence[str] = (),
) -> RunResult:
    """The one place that decides whether anything is changed."""
    result = RunResult(command, env, dry_run, [step.plan() for step in steps], warnings=list(warnings))
    if dry_run or any(r.refused for r in result.steps) or not any(r.planned for r in result.steps):
        return result
    confirm(result)  # raises when the user does not confirm: nothing has changed yet
    result.confirmed = True
    for step, planned in zip(steps, result.steps, strict=True):
        if planned.planned:
            step.apply(planned, progress)
    return result
