"""Time check_local_snapshot on word snapshots of the real system's size, and measure its peak memory.

Each snapshot (dimension 1,536, deterministic random vectors) is built once into .bench-cache/ and reused.
Every measurement runs in a fresh process, so its peak RSS is its own; the chroma probe's subprocess is
reported separately (Linux: peak RSS comes from /proc). Run: .venv/bin/python benchmarks/verify_speed.py
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from chroma_cleanup.snapshot_builder import build_snapshot, random_embeddings, word_records
from chroma_cleanup.verify import check_local_snapshot

SIZES = (10_000, 50_000)
DIMENSION = 1_536
RUNS = 3
CACHE = Path(__file__).resolve().parent.parent / ".bench-cache"


def snapshot(count: int) -> Path:
    folder = CACHE / f"words-{count}x{DIMENSION}"
    if not folder.is_dir():
        # Build beside it and rename, so an interrupted build is never mistaken for a cached one.
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        started = time.perf_counter()
        ids, metadatas = word_records(count)
        build_snapshot(partial, "words", ids, random_embeddings(count, DIMENSION), metadatas)
        partial.rename(folder)
        print(f"built {folder.name} in {time.perf_counter() - started:.0f} s", flush=True)
    return folder


def measure(folder: Path, probe: bool) -> None:
    """Child process: one timed check, printed as JSON."""
    started = time.perf_counter()
    report = check_local_snapshot(folder, "words", chroma_probe=probe)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_mib": _peak_rss_mib(),
                # The probe's own peak (at least this process's RSS when it forked), KiB on Linux.
                "probe_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                "statuses": {check.name: check.status for check in report.checks},
            }
        )
    )


def _peak_rss_mib() -> float:
    """VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def main() -> None:
    print(f"{'records':>8} {'probe':>5} {'median s':>9} {'runs s':>20} {'verify RSS':>11} {'probe RSS':>10}  statuses")
    for count in SIZES:
        folder = snapshot(count)
        for probe in (False, True):
            runs = [_run_child(folder, probe) for _ in range(RUNS)]
            times = " ".join(f"{run['seconds']:.2f}" for run in runs)
            statuses = ",".join(f"{name}={status}" for name, status in runs[0]["statuses"].items())
            print(
                f"{count:>8,} {'on' if probe else 'off':>5} {statistics.median(r['seconds'] for r in runs):>9.2f}"
                f" {times:>20} {max(r['rss_mib'] for r in runs):>8.0f} MiB"
                f" {max(r['probe_rss_mib'] for r in runs):>6.0f} MiB  {statuses}",
                flush=True,
            )


def _run_child(folder: Path, probe: bool) -> dict:
    command = [sys.executable, __file__, "--measure", str(folder), "--probe" if probe else "--no-probe"]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        measure(Path(sys.argv[2]), sys.argv[3] == "--probe")
    else:
        main()
