"""Plan every step, stop there on a dry run, ask once, then apply the steps in order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import botocore.exceptions as bx

from chroma_cleanup.aws.clients import error_code, error_message
from chroma_cleanup.errors import CleanupError
from chroma_cleanup.operations.model import Progress, RunResult, Step, StepResult


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
    broken: str | None = None
    for step, planned in zip(steps, result.steps, strict=True):
        if not planned.planned:
            continue
        if broken:
            why = "the run was interrupted" if result.interrupted else f"the {broken} step failed before it"
            planned.warnings.append(f"not applied: {why}")
            continue
        try:
            step.apply(planned, progress)
        except (CleanupError, bx.ClientError, bx.BotoCoreError) as exc:
            # Earlier steps have changed things: report them with this failure (exit 1), not as a setup error.
            progress.stop()
            _fail_whole(planned, exc)
            broken = planned.step
        except KeyboardInterrupt:
            # Ctrl-C: the changes made so far are real; say what they were instead of only "interrupted".
            progress.stop()
            planned.applied = True
            planned.fail(planned.target, "Interrupted", "stopped by Ctrl-C; run the command again to finish")
            result.interrupted = True
            broken = "interrupted"
    return result


def _fail_whole(result: StepResult, exc: Exception) -> None:
    if isinstance(exc, CleanupError):
        code, message = type(exc).__name__, exc.message
    elif isinstance(exc, bx.ClientError):
        code, message = error_code(exc), error_message(exc)
    else:
        code, message = type(exc).__name__, str(exc)
    result.fail(result.target, code, f"the step stopped: {message}")
