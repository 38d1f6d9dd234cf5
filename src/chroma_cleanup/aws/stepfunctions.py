"""The pipeline's state machines and their executions."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import botocore.exceptions as bx

from chroma_cleanup.aws.clients import AwsSession, aws_errors, error_code, error_message
from chroma_cleanup.errors import AwsUnavailable


@dataclass(frozen=True)
class Execution:
    arn: str
    name: str
    state_machine_arn: str


@dataclass(frozen=True)
class StopFailed(Exception):
    code: str
    message: str


class StepFunctions:
    def __init__(self, session: AwsSession) -> None:
        self._sfn = session.client("stepfunctions")

    def state_machines(self) -> Iterator[tuple[str, str]]:
        """(name, arn) of every state machine in the account and region."""
        with aws_errors("the list of state machines"):
            for page in self._sfn.get_paginator("list_state_machines").paginate():
                for machine in page.get("stateMachines", []):
                    yield machine["name"], machine["stateMachineArn"]

    def running(self, state_machine_arn: str) -> Iterator[Execution]:
        """RUNNING executions of one state machine, every page."""
        pages = self._sfn.get_paginator("list_executions").paginate(
            stateMachineArn=state_machine_arn, statusFilter="RUNNING"
        )
        with aws_errors(f"the executions of {state_machine_arn}"):
            try:
                for page in pages:
                    for item in page.get("executions", []):
                        yield Execution(item["executionArn"], item["name"], state_machine_arn)
            except bx.ClientError as exc:
                if error_code(exc) == "StateMachineDoesNotExist":
                    raise AwsUnavailable(
                        f"state machine {state_machine_arn} does not exist",
                        "check --state-machine / the stack outputs and --region",
                    ) from None
                raise

    def status(self, execution_arn: str) -> str:
        with aws_errors(f"execution {execution_arn}"):
            return self._sfn.describe_execution(executionArn=execution_arn)["status"]

    def stop(self, execution_arn: str, cause: str) -> None:
        try:
            self._sfn.stop_execution(executionArn=execution_arn, error="chroma-cleanup", cause=cause)
        except bx.ClientError as exc:
            raise StopFailed(error_code(exc), error_message(exc)) from None
        except bx.BotoCoreError as exc:
            raise StopFailed(type(exc).__name__, str(exc)) from None
