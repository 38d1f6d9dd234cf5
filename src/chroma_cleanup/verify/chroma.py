"""The `chroma` check: does chromadb itself open the snapshot and find stored vectors again?"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from chroma_cleanup.verify.result import Check

INSTALL_HINT = "install the chroma extra: pip install 'chroma-cleanup[chroma]'"
# A stored vector searched for comes back at distance ~0 (float32 rounding), from itself or a duplicate.
SAME_VECTOR = 1e-4
SOURCE_ROOT = Path(__file__).resolve().parents[2]


def chroma_installed() -> bool:
    return importlib.util.find_spec("chromadb") is not None


def check_chroma(folder: Path, collection: str, ids: frozenset[str], *, timeout: float, sample: int) -> Check:
    """Probe a copy of `folder` (opening can write) in a subprocess; `ids` are SQLite's."""
    if not chroma_installed():
        return Check("chroma", "skip", INSTALL_HINT)
    wanted = _spread(sorted(ids), sample)
    with tempfile.TemporaryDirectory(prefix="chroma-verify-") as scratch:
        copy = Path(scratch) / "snapshot"
        # Regular files and folders only: a symlink may lead out of the snapshot (to /dev/zero, say, which a
        # copy would follow until the disk is full); the S3 download never makes one.
        shutil.copytree(folder, copy, ignore=_not_plain)
        request = json.dumps({"folder": str(copy), "collection": collection, "ids": wanted})
        # -m must find this package even when it runs from a source tree that is not installed.
        paths = filter(None, [str(SOURCE_ROOT), os.environ.get("PYTHONPATH")])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
        try:
            run = subprocess.run(
                [sys.executable, "-m", "chroma_cleanup.verify.chroma_probe"],
                input=request,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
            )
        except subprocess.TimeoutExpired:
            return Check("chroma", "fail", f"chromadb did not open and search the snapshot within {timeout:g} s")
    if run.returncode < 0:
        return Check("chroma", "fail", f"chromadb crashed on the snapshot ({_signal_name(-run.returncode)})")
    if run.returncode > 0:
        return Check("chroma", "fail", f"chromadb failed: {_last_line(run.stderr)}")
    return _judge(json.loads(_last_line(run.stdout)), len(ids), wanted)


def _not_plain(directory: str, names: list[str]) -> set[str]:
    """Names to leave out of the copy: symlinks, devices, pipes and sockets."""
    paths = {name: os.path.join(directory, name) for name in names}
    return {n for n, p in paths.items() if os.path.islink(p) or not (os.path.isfile(p) or os.path.isdir(p))}


def _judge(answer: dict, expected_count: int, wanted: list[str]) -> Check:
    problems = []
    if answer["count"] != expected_count:
        problems.append(f"chromadb counts {answer['count']:,} records, SQLite holds {expected_count:,}")
    returned = {sample["id"] for sample in answer["samples"]}
    if missing := [i for i in wanted if i not in returned]:
        problems.append(f"chromadb does not return {len(missing)} of {len(wanted)} sampled ids (e.g. {missing[0]})")
    lost = [sample["id"] for sample in answer["samples"] if not _finds_itself(sample)]
    if lost:
        problems.append(f"{len(lost)} sampled vector(s) not found by searching for them (e.g. {lost[0]})")
    if problems:
        return Check("chroma", "fail", "; ".join(problems))
    return Check(
        "chroma",
        "pass",
        f"count {answer['count']:,} matches SQLite; {len(wanted)} sampled vector(s) each found itself",
    )


def _finds_itself(sample: dict) -> bool:
    hits = dict(zip(sample["hits"], sample["distances"], strict=True))
    if sample["id"] in hits:
        return hits[sample["id"]] <= SAME_VECTOR
    # Identical vectors stored under other ids may fill every result slot.
    return bool(hits) and max(hits.values()) <= SAME_VECTOR


def _spread(ids: list[str], count: int) -> list[str]:
    """`count` ids evenly spread over sorted `ids`, so a sample is the same on every run."""
    if count >= len(ids):
        return ids
    return [ids[i * len(ids) // count] for i in range(count)]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
