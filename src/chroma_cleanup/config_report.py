"""What `config` shows: every resolved name, where it came from, and what could not be resolved."""

from __future__ import annotations

from typing import Any

from chroma_cleanup.context import Context
from chroma_cleanup.errors import CleanupError
from chroma_cleanup.pulumi_outputs import SECRET


def _entry(resolved) -> dict[str, Any] | None:
    return {"value": resolved.value, "source": resolved.source} if resolved else None


def _shown(value: Any) -> Any:
    """Output values as JSON would hold them, with every secret masked."""
    if value is SECRET:
        return str(SECRET)
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shown(v) for v in value]
    return value


def config_report(ctx: Context) -> dict[str, Any]:
    config = ctx.config
    values: dict[str, Any] = {
        "env": _entry(config.env),
        "stack": _entry(config.stack()),
        "config_file": str(config.file_path) if config.file_path else None,
    }
    missing: dict[str, str] = {}
    for name in ("profile", "region", "endpoint_url"):
        values[name] = _entry(config.aws_setting(name))
    for name, resolve in (("bucket", config.bucket), ("table", config.table)):
        try:
            values[name] = _entry(resolve(ctx.read_s3))
        except CleanupError as exc:
            values[name] = None
            missing[name] = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
    try:
        machines = config.state_machines_given(ctx.read_s3)
    except CleanupError as exc:
        machines, missing["state_machines"] = None, exc.message
    patterns = ", ".join(p.format(env=ctx.env or "{env}") + "*" for p in ctx.layout.state_machine_patterns)
    values["state_machines"] = _entry(machines) or {
        "value": [],
        "source": f"looked up by name when needed: {patterns}",
    }
    outputs = config._outputs
    return {
        "values": values,
        "outputs": (
            {"origin": outputs.origin, "values": {k: _shown(v) for k, v in outputs.values.items()}} if outputs else None
        ),
        "missing": missing,
    }
