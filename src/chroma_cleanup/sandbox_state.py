"""Where a running sandbox says how to reach it, so `--env sandbox` just works."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chroma_cleanup.errors import ConfigError

SANDBOX_ENV = "sandbox"
SANDBOX_CREDENTIALS = ("sandbox", "sandbox")  # moto takes any key; these never leave loopback


def state_path() -> Path:
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "chroma-cleanup" / "sandbox.json"


@dataclass(frozen=True)
class SandboxState:
    path: Path
    endpoint_url: str
    region: str
    outputs: dict[str, Any]
    pid: int


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_running() -> SandboxState:
    path = state_path()
    hint = "start it with `chroma-cleanup sandbox` in another terminal (or run `make demo`)"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        state = SandboxState(path, doc["endpoint_url"], doc["region"], doc["outputs"], int(doc["pid"]))
    except FileNotFoundError:
        raise ConfigError("the sandbox is not running", hint) from None
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(f"the sandbox state file {path} is damaged", hint) from None
    if not _alive(state.pid):
        raise ConfigError("the sandbox is not running (its state file is stale)", hint)
    return state


def write(endpoint_url: str, region: str, outputs: dict[str, Any]) -> Path:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"endpoint_url": endpoint_url, "region": region, "outputs": outputs, "pid": os.getpid()}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def refuse_second_sandbox() -> None:
    """Two sandboxes sharing one state file would leave `--env sandbox` pointing at the wrong one."""
    try:
        running = load_running()
    except ConfigError:
        return
    raise ConfigError(
        f"a sandbox is already running (pid {running.pid}, {running.endpoint_url})",
        "stop it first, or give this one its own state with XDG_STATE_HOME=<another folder>",
    )


def remove() -> None:
    """Remove the state file if it is this process's (another sandbox may have written it since)."""
    path = state_path()
    try:
        owner = json.loads(path.read_text(encoding="utf-8")).get("pid")
    except (OSError, ValueError, AttributeError):
        return
    if owner == os.getpid():
        path.unlink(missing_ok=True)
