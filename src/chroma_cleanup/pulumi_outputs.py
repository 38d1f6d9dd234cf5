"""Pulumi stack outputs from an outputs file, a self-managed backend's state file, or the Pulumi CLI."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from chroma_cleanup.errors import ConfigError


class Secret:
    """A secret output: its value is never shown."""

    def __repr__(self) -> str:
        return "[secret]"

    __str__ = __repr__


SECRET = Secret()


@dataclass(frozen=True)
class StackOutputs:
    values: dict[str, Any]
    origin: str

    def first(self, keys: tuple[str, ...]) -> tuple[str, Any] | None:
        """The first of `keys` present with a value, as (key, value)."""
        for key in keys:
            value = self.values.get(key)
            if value not in (None, ""):
                return key, value
        return None


# Pulumi marks a secret value, at any depth of an output, with this signature key.
_SECRET_SIG = "4dabf18193072939515e22adb298388d"


def _unwrap(value: Any) -> Any:
    """Outputs are plain values or {"value": ...}; secrets carry a ciphertext or are masked, at any depth."""
    if isinstance(value, dict):
        if "ciphertext" in value or _SECRET_SIG in value or value.get("secret") is True:
            return SECRET
        if set(value) <= {"value", "secret"} and "value" in value:
            return _unwrap(value["value"])
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if value == "[secret]":
        return SECRET
    return value


def parse_outputs(data: Any, origin: str) -> StackOutputs:
    if not isinstance(data, dict):
        raise ConfigError(
            f"{origin} does not hold a JSON object of outputs",
            "give the JSON printed by `pulumi stack output --json`",
        )
    return StackOutputs({str(k): _unwrap(v) for k, v in data.items()}, origin)


def from_outputs_file(path: Path) -> StackOutputs:
    origin = f"outputs file {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"outputs file {path} does not exist", "check --outputs-file / CHROMA_CLEANUP_OUTPUTS_FILE"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read outputs file {path}: {exc}", "check the file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"outputs file {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            "regenerate it with `pulumi stack output --json --stack ORG/PROJECT/ENV > FILE`",
        ) from None
    return parse_outputs(data, origin)


def _state_file_candidates(stack: str) -> list[str]:
    """Paths below the backend root where a self-managed backend keeps this stack's state."""
    parts = stack.split("/")
    name = parts[-1]
    paths = []
    if len(parts) >= 2:
        paths.append(f".pulumi/stacks/{parts[-2]}/{name}")
    paths.append(f".pulumi/stacks/{name}")
    return [p + ext for p in paths for ext in (".json", ".json.gz")]


def outputs_from_state(raw: bytes, origin: str) -> StackOutputs:
    """The `pulumi:pulumi:Stack` resource's outputs from a checkpoint document."""
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        doc = json.loads(raw)
        resources = doc["checkpoint"]["latest"].get("resources") or []
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError):
        raise ConfigError(
            f"{origin} is not a Pulumi state file", "check PULUMI_BACKEND_URL and the stack name"
        ) from None
    for resource in resources:
        if isinstance(resource, dict) and resource.get("type") == "pulumi:pulumi:Stack":
            return parse_outputs(resource.get("outputs") or {}, origin)
    raise ConfigError(f"{origin} has no stack resource with outputs", "has the stack been deployed?")


def from_backend(backend_url: str, stack: str, read_s3: Callable[[str, str], bytes | None]) -> StackOutputs:
    """Read the state file of a `file://` or `s3://` backend directly; the CLI is not needed."""
    url = urlparse(backend_url)
    candidates = _state_file_candidates(stack)
    if url.scheme == "file":
        # As `pulumi login` reads it: all after "file://" is a path, "~" is home, relative means from the cwd.
        root = Path(backend_url.removeprefix("file://").split("?", 1)[0]).expanduser().absolute()
        for rel in candidates:
            path = root / rel
            if path.is_file():
                return outputs_from_state(path.read_bytes(), f"state file {path}")
        where = root
    elif url.scheme == "s3":
        prefix = url.path.strip("/")
        for rel in candidates:
            key = f"{prefix}/{rel}" if prefix else rel
            raw = read_s3(url.netloc, key)
            if raw is not None:
                return outputs_from_state(raw, f"state file s3://{url.netloc}/{key}")
        where = backend_url
    else:
        raise ConfigError(
            f"PULUMI_BACKEND_URL {backend_url} is not a file:// or s3:// backend",
            "give --outputs-file, or put the pulumi CLI on PATH",
        )
    raise ConfigError(
        f"no state for stack {stack} under {where}",
        f"looked for {', '.join(candidates[::2])}; check --stack and PULUMI_BACKEND_URL",
    )


def from_pulumi_cli(stack: str) -> StackOutputs:
    """Ask the Pulumi CLI through the SDK's automation API (it shells out to `pulumi`)."""
    from pulumi import automation as auto

    parts = stack.split("/")
    project = parts[-2] if len(parts) >= 2 else "chroma-cleanup"
    # The SDK writes a Pulumi.yaml into its work dir and would leave a fresh temp dir behind on every call.
    with tempfile.TemporaryDirectory(prefix="chroma-cleanup-pulumi-") as work_dir:
        try:
            selected = auto.select_stack(
                stack_name=stack,
                project_name=project,
                program=lambda: None,
                opts=auto.LocalWorkspaceOptions(work_dir=work_dir),
            )
            # Not selected.outputs(): it also runs `--show-secrets`, which needs the stack's secrets passphrase
            # and would bring every secret into this process. The masked listing shows each as "[secret]".
            masked = selected.workspace.pulumi_command.run(
                ["stack", "output", "--json", "--stack", stack], work_dir, {}
            )
            outputs = json.loads(masked.stdout)
        except auto.errors.StackNotFoundError:
            raise ConfigError(f"Pulumi has no stack {stack}", "check --env / --stack and `pulumi login`") from None
        except auto.errors.CommandError as exc:
            detail = " ".join(str(exc).split())[:200]
            raise ConfigError(f"pulumi could not read stack {stack}: {detail}", "run `pulumi login`") from None
        except (auto.errors.InvalidVersionError, subprocess.CalledProcessError, OSError) as exc:
            detail = " ".join(str(exc).split())[:200]
            raise ConfigError(
                f"the pulumi CLI on PATH cannot be used: {detail}",
                "install a pulumi CLI >= 3.1, or give --outputs-file",
            ) from None
        except ValueError:  # json.JSONDecodeError: `pulumi stack output --json` printed something else
            raise ConfigError(
                f"pulumi printed no JSON outputs for stack {stack}", "run `pulumi stack output --json --stack STACK`"
            ) from None
    return parse_outputs(outputs, f"pulumi CLI (stack {stack})")


def pulumi_cli_available() -> bool:
    return shutil.which("pulumi") is not None
