"""The resolved environment of one command: configuration plus the AWS resources it names."""

from __future__ import annotations

from dataclasses import dataclass, field

import botocore.exceptions as bx

from chroma_cleanup.aws.clients import AwsSession, aws_errors, error_code, require_bucket, require_table
from chroma_cleanup.aws.dynamo import Table
from chroma_cleanup.aws.s3 import Bucket
from chroma_cleanup.aws.stepfunctions import StepFunctions
from chroma_cleanup.config import Config, Resolved
from chroma_cleanup.errors import Refused
from chroma_cleanup.operations.executions import find_state_machines
from chroma_cleanup.sandbox_state import SANDBOX_CREDENTIALS


@dataclass
class Context:
    config: Config
    workers: int = 8
    _session: AwsSession | None = None
    _cache: dict = field(default_factory=dict)

    @property
    def layout(self):
        return self.config.layout

    @property
    def env(self) -> str | None:
        return self.config.env_name()

    def session(self) -> AwsSession:
        if self._session is None:
            setting = self.config.aws_setting
            self._session = AwsSession(
                profile=_value(setting("profile")),
                region=_value(setting("region")),
                endpoint_url=_value(setting("endpoint_url")),
                max_pool=max(10, self.workers + 2),
                credentials=SANDBOX_CREDENTIALS if self.config.sandbox() else None,
            )
        return self._session

    def read_s3(self, bucket: str, key: str) -> bytes | None:
        """For an s3:// Pulumi backend: the state file's bytes, or None when it is not there."""
        with aws_errors(f"s3://{bucket}/{key}"):
            try:
                return self.session().client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
            except bx.ClientError as exc:
                if error_code(exc) in ("NoSuchKey", "404", "NoSuchBucket"):
                    return None
                raise

    def bucket(self) -> Bucket:
        if "bucket" not in self._cache:
            name = self.config.bucket(self.read_s3).value
            require_bucket(self.session(), name)
            self._cache["bucket"] = Bucket(self.session(), name)
        return self._cache["bucket"]

    def table(self) -> Table:
        if "table" not in self._cache:
            name = self.config.table(self.read_s3).value
            require_table(self.session(), name)
            self._cache["table"] = Table(
                self.session(), name, type_index=self.layout.type_index, type_attribute=self.layout.type_attribute
            )
        return self._cache["table"]

    def step_functions(self) -> StepFunctions:
        return StepFunctions(self.session())

    def state_machines(self) -> Resolved:
        if "machines" not in self._cache:
            given = self.config.state_machines_given(self.read_s3)
            if given is None:
                arns = find_state_machines(self.step_functions(), self.layout.state_machine_patterns, self.env)
                given = Resolved(arns, "ListStateMachines by name")
            self._cache["machines"] = given
        return self._cache["machines"]

    def refuse_prod(self, allow_prod: bool) -> None:
        """Names containing "prod" are refused unless the user says --allow-prod: the env and stack before
        anything is resolved, the bucket and table once they are."""
        if allow_prod:
            return
        stack = self.config.stack()
        names = [("env", self.env), ("stack", stack.value if stack else None)]
        names += [(what, self._cache[what].name) for what in ("bucket", "table") if what in self._cache]
        for what, name in names:
            if name and "prod" in str(name).lower():
                raise Refused(
                    f"refusing to clean up {what} {name!r}: it looks like production",
                    "pass --allow-prod if you really mean it",
                )


def _value(resolved: Resolved | None):
    return resolved.value if resolved else None
