"""Time and peak memory of `embeddings` as the table grows, against moto's server on 127.0.0.1.

The CLI runs in its own process so its peak RSS is its own (moto's server lives in this one). Flat memory
means the items are streamed a page at a time, never held. Most of the time is moto's, which serves about
150 requests a second on one core: against AWS the same run is bound by `--workers` and the table's capacity.
Run: .venv/bin/python benchmarks/cleanup_scale.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid

from local_aws import CHILD_ENV, client, create_table, put_items

from chroma_cleanup.sandbox.server import LocalAws

SIZES = (2_000, 20_000)


def seed(endpoint: str, words: int) -> str:
    ddb = client("dynamodb", endpoint)
    table = create_table(ddb, f"bench-{words}")
    image = str(uuid.uuid4())
    items = []
    for n in range(words):
        sk = f"RECEIPT#{n // 1000 + 1:05d}#LINE#{n // 10 % 100 + 1:05d}#WORD#{n % 10 + 1:05d}"
        items.append(
            {
                "PK": f"IMAGE#{image}",
                "SK": sk,
                "TYPE": "RECEIPT_WORD",
                "embedding_status": "SUCCESS",
                "GSI1PK": "EMBEDDING_STATUS#SUCCESS",
                "GSI1SK": f"IMAGE#{image}#{sk}",
                "text": "milk" * 8,
            }
        )
    put_items(ddb, table, items)
    return table


# Runs the CLI in a child and prints its own peak RSS (VmHWM) to stderr when it exits.
PEAK = """
import runpy, sys
sys.argv = ["chroma-cleanup", *sys.argv[1:]]
try:
    runpy.run_module("chroma_cleanup", run_name="__main__")
finally:
    status = open("/proc/self/status").read()
    print("PEAK", int(status.split("VmHWM:")[1].split()[0]) // 1024, file=sys.stderr)
"""


def run(endpoint: str, table: str, *args: str) -> tuple[float, int, dict]:
    command = [sys.executable, "-c", PEAK, "embeddings", "--table", table, "--endpoint-url", endpoint, "--json", *args]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=CHILD_ENV, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak = int(done.stderr.rsplit("PEAK", 1)[1].split()[0])
    return seconds, peak, json.loads(done.stdout)["steps"][0]


def main() -> None:
    aws = LocalAws()
    endpoint = aws.start()
    print(f"{'words':>7} {'step':>8} {'seconds':>8} {'items/s':>8} {'peak RSS':>9}")
    try:
        for words in SIZES:
            table = seed(endpoint, words)
            for label, args in (("dry-run", ("--dry-run",)), ("reset", ("--yes", "--workers", "8"))):
                seconds, peak, step = run(endpoint, table, *args)
                assert step["planned"] == words, step
                print(f"{words:>7,} {label:>8} {seconds:>8.1f} {words / seconds:>8.0f} {peak:>6} MiB", flush=True)
            urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()
    finally:
        aws.stop()


if __name__ == "__main__":
    main()
