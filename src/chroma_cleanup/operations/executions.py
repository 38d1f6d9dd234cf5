"""Stop the pipeline's in-flight Step Functions executions, then wait until none is RUNNING."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from chroma_cleanup.aws.stepfunctions import Execution, StepFunctions, StopFailed
from chroma_cleanup.errors import ConfigError
from chroma_cleanup.operations.model import Progress, StepResult

CAUSE = "stopped by chroma-cleanup before a test run"


def find_state_machines(sfn: StepFunctions, patterns: tuple[str, ...], env: str | None) -> tuple[str, ...]:
    """ARNs of the state machines whose names start with one of the patterns (ListStateMachines)."""
    if not env:
        raise ConfigError(
            "no state machines: the outputs name none and there is no --env to look them up by name",
            "give --state-machine ARN (repeatable) or --env",
        )
    prefixes = tuple(p.format(env=env) for p in patterns)
    found = tuple(arn for name, arn in sfn.state_machines() if name.startswith(prefixes))
    if not found:
        raise ConfigError(
            f"no state machine is named like {', '.join(p + '*' for p in prefixes)}",
            "give --state-machine ARN (repeatable), or add the ARNs to the stack outputs",
        )
    return found


@dataclass
class StopExecutions:
    sfn: StepFunctions
    state_machines: tuple[str, ...]
    wait_seconds: float = 60.0
    poll_seconds: float = 2.0
    _planned: list[Execution] = field(default_factory=list)

    def _running(self) -> list[Execution]:
        return [e for arn in self.state_machines for e in self.sfn.running(arn)]

    def plan(self) -> StepResult:
        result = StepResult("executions", f"{len(self.state_machines)} state machine(s): RUNNING executions")
        self._planned = self._running()
        result.planned = len(self._planned)
        for execution in self._planned:
            result.example(f"{_machine_name(execution.state_machine_arn)}: {execution.name}")
        return result

    def apply(self, result: StepResult, progress: Progress) -> StepResult:
        result.applied = True
        running_now = {e.arn: e for e in self._running()}  # listings lag: new ones may have started
        targets = {e.arn: e for e in self._planned} | running_now
        progress.start("stopping executions", len(targets))
        stopped: list[str] = []
        for arn, execution in targets.items():
            if arn not in running_now and self.sfn.status(arn) != "RUNNING":
                result.unchanged += 1  # finished on its own since the plan
            else:
                self._stop(execution, result, stopped)
            progress.advance()
        # Executions that started while we stopped the others: the spec's "list again until none is RUNNING".
        late_round = {e.arn: e for e in self._running() if e.arn not in targets}
        targets |= late_round
        for execution in late_round.values():
            self._stop(execution, result, stopped)
        progress.stop()
        still = self._wait_until_stopped(set(stopped))
        for arn in stopped:
            if arn in still:
                result.fail(targets[arn].name, "StillRunning", f"still RUNNING after {self.wait_seconds:g}s")
            else:
                result.changed += 1
        late = [e.name for e in self._running() if e.arn not in targets]
        if late:
            result.warnings.append(f"{len(late)} execution(s) started during the cleanup: {', '.join(late[:3])}")
        return result

    def _stop(self, execution: Execution, result: StepResult, stopped: list[str]) -> None:
        try:
            self.sfn.stop(execution.arn, CAUSE)
            stopped.append(execution.arn)
        except StopFailed as exc:
            if self.sfn.status(execution.arn) != "RUNNING":
                result.unchanged += 1  # it ended between the listing and the stop
            else:
                result.fail(execution.name, exc.code, exc.message)

    def _wait_until_stopped(self, arns: set[str]) -> set[str]:
        """ListExecutions is eventually consistent: poll until our executions leave RUNNING, or time runs out."""
        deadline = time.monotonic() + self.wait_seconds
        while arns:
            arns = {arn for arn in arns if self.sfn.status(arn) == "RUNNING"}
            if not arns or time.monotonic() >= deadline:
                break
            time.sleep(self.poll_seconds)
        return arns


def _machine_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]
