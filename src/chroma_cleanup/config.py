"""One loader for every command: flag > environment variable > config file > Pulumi outputs > defaults."""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from chroma_cleanup import pulumi_outputs, sandbox_state
from chroma_cleanup.errors import ConfigError
from chroma_cleanup.layout import Layout, check_template, layout_from_config
from chroma_cleanup.pulumi_outputs import SECRET, StackOutputs

CONFIG_FILE_NAME = "chroma-cleanup.toml"
_FILE_KEYS = {"env", "stack", "bucket", "table", "state_machines", "region", "profile", "endpoint_url"}


@dataclass(frozen=True)
class Given:
    """A value the user gave, and where: "flag --bucket" or "environment variable CHROMA_CLEANUP_BUCKET"."""

    value: Any
    source: str


@dataclass
class Inputs:
    """What the command line and the environment gave; None where nothing was given."""

    env: Given | None = None
    stack: Given | None = None
    outputs_file: Given | None = None
    bucket: Given | None = None
    table: Given | None = None
    state_machines: Given | None = None
    profile: Given | None = None
    region: Given | None = None
    endpoint_url: Given | None = None


@dataclass(frozen=True)
class Resolved:
    value: Any
    source: str


def config_file_path(cwd: Path | None = None) -> Path | None:
    """CHROMA_CLEANUP_CONFIG, else ./chroma-cleanup.toml, else the user config directory's config.toml."""
    explicit = os.environ.get("CHROMA_CLEANUP_CONFIG")
    if explicit:
        return Path(explicit)
    local = (cwd or Path.cwd()) / CONFIG_FILE_NAME
    if local.is_file():
        return local
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    user = base / "chroma-cleanup" / "config.toml"
    return user if user.is_file() else None


def _read_config_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist", "check CHROMA_CLEANUP_CONFIG") from None
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}", "fix or remove the file") from None


@dataclass
class Config:
    """Resolves each name on first use, so a command only needs the names it uses."""

    inputs: Inputs
    file_path: Path | None
    file_values: dict[str, Any]
    layout: Layout
    _outputs: StackOutputs | None = None
    _outputs_loaded: bool = False
    _resolved: dict[str, Resolved] = field(default_factory=dict)

    @classmethod
    def load(cls, inputs: Inputs) -> Config:
        path = config_file_path()
        data = _read_config_file(path)
        layout = layout_from_config(_table(data, "layout"), _table(data, "outputs"))
        env_given = inputs.env.value if inputs.env else data.get("env")
        values = {k: v for k, v in data.items() if k in _FILE_KEYS or k == "stack_template"}
        envs = _table(data, "envs")
        # Every section is checked, not only the selected env's: a typo must not silently fall back to a default.
        sections = [("", set(data) - {"layout", "outputs", "envs"})]
        sections += [(f"[envs.{name}] ", set(_table(envs, name))) for name in envs]
        for where, keys in sections:
            unknown = keys - _FILE_KEYS - {"stack_template"}
            if unknown:
                raise ConfigError(
                    f"unknown {where}setting {sorted(unknown)[0]!r} in {path}", "see the README's Configuration"
                )
        if env_given and env_given in envs:
            values.update(envs[env_given])
        for key, value in values.items():
            _check_file_value(key, value, path)
        if "stack_template" in values:
            layout = _with_stack_template(layout, values.pop("stack_template"))
        return cls(inputs, path, values, layout)

    def _from_user(self, name: str) -> Resolved | None:
        given = getattr(self.inputs, name)
        if given is not None and given.value not in (None, "", ()):
            return Resolved(given.value, given.source)
        if self.file_values.get(name) not in (None, ""):
            return Resolved(self.file_values[name], f"config file {self.file_path}")
        return None

    @property
    def env(self) -> Resolved | None:
        return self._from_user("env")

    def env_name(self) -> str | None:
        env = self.env
        return str(env.value) if env else None

    def stack(self) -> Resolved | None:
        found = self._from_user("stack")
        if found:
            return found
        env = self.env_name()
        if env:
            return Resolved(self.layout.stack_template.format(env=env), "stack template + --env")
        return None

    def sandbox(self) -> sandbox_state.SandboxState | None:
        if self.env_name() != sandbox_state.SANDBOX_ENV or self._from_user("outputs_file"):
            return None
        return sandbox_state.load_running()

    def outputs(self, read_s3=None) -> StackOutputs | None:
        """Pulumi outputs from the first source that has them, or None where no source is set up."""
        if self._outputs_loaded:
            return self._outputs
        self._outputs_loaded = True
        outputs_file = self._from_user("outputs_file")
        backend = os.environ.get("PULUMI_BACKEND_URL", "")
        stack = self.stack()
        if outputs_file:
            self._outputs = pulumi_outputs.from_outputs_file(Path(outputs_file.value).expanduser())
        elif (sandbox := self.sandbox()) is not None:
            self._outputs = pulumi_outputs.parse_outputs(sandbox.outputs, f"sandbox state {sandbox.path}")
        elif stack and backend.startswith(("file://", "s3://")):
            self._outputs = pulumi_outputs.from_backend(backend, stack.value, read_s3)
        elif stack and pulumi_outputs.pulumi_cli_available():
            self._outputs = pulumi_outputs.from_pulumi_cli(stack.value)
        return self._outputs

    def _named(self, name: str, keys: tuple[str, ...], flag: str, read_s3=None) -> Resolved:
        if name in self._resolved:
            return self._resolved[name]
        found = self._from_user(name)
        if found is None:
            outputs = self.outputs(read_s3)
            hit = outputs.first(keys) if outputs else None
            if hit is not None:
                key, value = hit
                if value is SECRET:
                    raise ConfigError(
                        f"the {name} name in {outputs.origin} is a secret output ({key})",
                        f"give it with {flag}",
                    )
                if not isinstance(value, str):
                    shown = json.dumps(value, default=str)[:80]
                    raise ConfigError(
                        f"the {name} name in {outputs.origin} ({key}) is not a string: {shown}",
                        f"fix the outputs, or give it with {flag}",
                    )
                found = Resolved(value, f"{outputs.origin}: {key}")
        if found is None:
            raise missing(name, keys, flag, self)
        self._resolved[name] = found
        return found

    def bucket(self, read_s3=None) -> Resolved:
        return self._named("bucket", self.layout.output_keys.bucket, "--bucket", read_s3)

    def table(self, read_s3=None) -> Resolved:
        return self._named("table", self.layout.output_keys.table, "--table", read_s3)

    def state_machines_given(self, read_s3=None) -> Resolved | None:
        """State machine ARNs from the user or the outputs; None means: look them up by name."""
        found = self._from_user("state_machines")
        if found:
            value = found.value
            # ARNs hold no commas or spaces: "a,b" is two, wherever it was given (click splits env vars on spaces).
            parts = value if isinstance(value, (list, tuple)) else [value]
            arns = tuple(a.strip() for part in parts for a in str(part).split(","))
            return Resolved(tuple(a for a in arns if a), found.source)
        outputs = self.outputs(read_s3)
        if outputs is None:
            return None
        keys = [k for k in self.layout.output_keys.state_machines if outputs.values.get(k)]
        for key in keys:
            if outputs.values[key] is not SECRET and not isinstance(outputs.values[key], str):
                raise ConfigError(
                    f"the state machine ARN in {outputs.origin} ({key}) is not a string",
                    "fix the outputs, or give the ARNs with --state-machine",
                )
        arns = tuple(outputs.values[k] for k in keys if outputs.values[k] is not SECRET)
        if not arns:
            return None
        return Resolved(arns, f"{outputs.origin}: {', '.join(keys)}")

    def aws_setting(self, name: str) -> Resolved | None:
        """profile, region, endpoint_url: the user's, else the sandbox's, else boto3's own defaults."""
        found = self._from_user(name)
        if found or name == "profile":
            return found
        sandbox = self.sandbox()
        if sandbox is None:
            return None
        if name == "endpoint_url" and os.environ.get("AWS_ENDPOINT_URL"):
            return None
        return Resolved(getattr(sandbox, name), f"sandbox state {sandbox.path}")


def _check_file_value(key: str, value: Any, path: Path | None) -> None:
    """A name from the config file is a string (state_machines: a string or a list of strings)."""
    if isinstance(value, str):
        return
    if key == "state_machines" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return
    kind = "a string or a list of strings" if key == "state_machines" else "a string"
    raise ConfigError(f"{key} in {path} must be {kind}", "fix the config file")


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] in the config file must be a table", "see the README's Configuration")
    return value


def _with_stack_template(layout: Layout, template: Any) -> Layout:
    if not isinstance(template, str) or "{env}" not in template:
        raise ConfigError("stack_template must be a string containing {env}", 'e.g. "myorg/myproject/{env}"')
    check_template("stack_template", template, "env")
    return replace(layout, stack_template=template)


def missing(name: str, keys: tuple[str, ...], flag: str, config: Config) -> ConfigError:
    """The error for a name no source gave: which name, and the three ways to give it."""
    outputs = config._outputs
    env = config.env_name()
    if outputs is not None:
        why = f"{outputs.origin} has none of {', '.join(keys)}"
    elif env is None:
        why = "no --env was given"
    else:
        why = f"no Pulumi outputs could be read for stack {config.stack().value}"
    envvar = "CHROMA_CLEANUP_" + name.upper()
    return ConfigError(
        f"no {name} name: {why}",
        f"give it with {flag} (or {envvar}), with --outputs-file (the JSON of `pulumi stack output --json`), "
        "or with PULUMI_BACKEND_URL / the pulumi CLI on PATH and --env",
    )
