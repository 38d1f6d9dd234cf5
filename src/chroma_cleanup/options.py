"""Options every command takes after its name, each with an environment variable."""

import functools
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from chroma_cleanup.config import Given, Inputs


@dataclass(frozen=True)
class Common:
    inputs: Inputs
    json: bool
    dry_run: bool = False
    yes: bool = False
    allow_prod: bool = False


def _opt(*names: str, envvar: str | None = None, help: str, **kw: Any) -> Any:
    return typer.Option(*names, envvar=envvar, help=help, show_envvar=bool(envvar), **kw)


_CONFIG_PANEL = "Environment"
_COMMON: list[tuple[str, Any, Any]] = [
    (
        "env",
        str | None,
        _opt("--env", envvar="CHROMA_CLEANUP_ENV", help="Environment name, e.g. dev.", rich_help_panel=_CONFIG_PANEL),
    ),
    (
        "stack",
        str | None,
        _opt(
            "--stack",
            envvar="CHROMA_CLEANUP_STACK",
            help="Pulumi stack ORG/PROJECT/ENV.",
            rich_help_panel=_CONFIG_PANEL,
        ),
    ),
    (
        "outputs_file",
        Path | None,
        _opt(
            "--outputs-file",
            envvar="CHROMA_CLEANUP_OUTPUTS_FILE",
            help="JSON printed by `pulumi stack output --json`.",
            rich_help_panel=_CONFIG_PANEL,
        ),
    ),
    (
        "bucket",
        str | None,
        _opt("--bucket", envvar="CHROMA_CLEANUP_BUCKET", help="Snapshot bucket name.", rich_help_panel=_CONFIG_PANEL),
    ),
    (
        "table",
        str | None,
        _opt("--table", envvar="CHROMA_CLEANUP_TABLE", help="DynamoDB table name.", rich_help_panel=_CONFIG_PANEL),
    ),
    (
        "state_machines",
        list[str] | None,
        _opt(
            "--state-machine",
            envvar="CHROMA_CLEANUP_STATE_MACHINES",
            help="State machine ARN (repeatable).",
            rich_help_panel=_CONFIG_PANEL,
        ),
    ),
    (
        "profile",
        str | None,
        _opt("--profile", envvar="AWS_PROFILE", help="AWS profile.", rich_help_panel=_CONFIG_PANEL),
    ),
    (
        "region",
        str | None,
        _opt("--region", envvar="CHROMA_CLEANUP_REGION", help="AWS region.", rich_help_panel=_CONFIG_PANEL),
    ),
    (
        "endpoint_url",
        str | None,
        _opt(
            "--endpoint-url",
            envvar="CHROMA_CLEANUP_ENDPOINT_URL",
            help="AWS endpoint (AWS_ENDPOINT_URL also works).",
            rich_help_panel=_CONFIG_PANEL,
        ),
    ),
    ("json_output", bool, _opt("--json", help="Print one JSON document on stdout.")),
]
_DESTRUCTIVE: list[tuple[str, Any, Any]] = [
    ("dry_run", bool, _opt("--dry-run", help="Show the plan; change nothing.")),
    ("yes", bool, _opt("--yes", "-y", help="Do not ask for the environment name before changing things.")),
    ("allow_prod", bool, _opt("--allow-prod", help="Allow an env or stack whose name contains 'prod'.")),
]
_FLAGS = {
    "env": "--env",
    "stack": "--stack",
    "outputs_file": "--outputs-file",
    "bucket": "--bucket",
    "table": "--table",
    "state_machines": "--state-machine",
    "profile": "--profile",
    "region": "--region",
    "endpoint_url": "--endpoint-url",
}


def _given(ctx: typer.Context, name: str, value: Any) -> Given | None:
    if value in (None, "", [], ()):
        return None
    source = ctx.get_parameter_source(name)
    if source is not None and source.name == "ENVIRONMENT":
        param = next(p for p in ctx.command.params if p.name == name)
        return Given(value, f"environment variable {param.envvar}")
    return Given(value, f"flag {_FLAGS[name]}")


def with_options(*, destructive: bool = False):
    """Add the shared options to a command whose first parameter is `opts: Common`."""
    extra = _COMMON + (_DESTRUCTIVE if destructive else [])

    def decorate(fn):
        signature = inspect.signature(fn)
        own = [p for name, p in signature.parameters.items() if name != "opts"]
        added = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=False if kind is bool else None,
                annotation=Annotated[kind, option],
            )
            for name, kind, option in extra
        ]

        @functools.wraps(fn)
        def command(**kwargs: Any) -> Any:
            ctx = kwargs.pop("typer_context")
            values = {name: kwargs.pop(name) for name, _, _ in extra}
            inputs = Inputs(**{name: _given(ctx, name, values[name]) for name in _FLAGS})
            opts = Common(
                inputs=inputs,
                json=values["json_output"],
                dry_run=values.get("dry_run", False),
                yes=values.get("yes", False),
                allow_prod=values.get("allow_prod", False),
            )
            return fn(opts, **kwargs)

        context_param = inspect.Parameter("typer_context", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
        params = own + added + [context_param]
        command.__signature__ = signature.replace(parameters=params)
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command

    return decorate
