"""The sandbox: seeded like the real layout, reachable as `--env sandbox` while it runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from builders import all_items, current_keys, execution_statuses

from chroma_cleanup.aws.clients import AwsSession
from chroma_cleanup.sandbox.seed import seed

pytest.importorskip("chromadb")


@pytest.fixture
def seeded(aws):
    session = AwsSession(region="us-east-1", endpoint_url=aws.endpoint, credentials=("testing", "testing"))
    return seed(session, receipts=40, corrupt=("lines",))


def test_seeded_layout_matches_the_real_system(aws, seeded):
    s3, ddb, sfn = aws.client("s3"), aws.client("dynamodb"), aws.client("stepfunctions")
    assert s3.get_bucket_versioning(Bucket=seeded.bucket)["Status"] == "Enabled"
    keys = current_keys(s3, seeded.bucket)
    for placeholder in ("snapshot/.placeholder", "delta/.placeholder", "snapshot/latest/pointer.txt"):
        assert placeholder in keys
    for collection in ("words", "lines"):
        stamps = {k.split("/")[3] for k in keys if k.startswith(f"{collection}/snapshot/timestamped/")}
        assert len(stamps) >= 3
        pointer = s3.get_object(Bucket=seeded.bucket, Key=f"{collection}/snapshot/latest-pointer.txt")["Body"].read()
        assert pointer.decode() == max(stamps)
        assert f"{collection}/snapshot/timestamped/{max(stamps)}/chroma.sqlite3" in keys
        assert any(k.startswith(f"{collection}/delta/") for k in keys)
    assert any(k.startswith("words/snapshot/latest/") for k in keys)
    for scratch in ("intermediate/", "chunks/", "chunk_groups/", "poll_results/", "poll_manifests/", "delta/legacy"):
        assert any(k.startswith(scratch) for k in keys)

    table = ddb.describe_table(TableName=seeded.table)["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2", "GSITYPE"}
    items = all_items(ddb, seeded.table)
    types = Counter(i["TYPE"] for i in items)
    assert types["RECEIPT"] == 40 and types["RECEIPT_WORD"] == 240 and types["RECEIPT_LINE"] == 120
    word_statuses = Counter(i["embedding_status"] for i in items if i["TYPE"] == "RECEIPT_WORD")
    assert word_statuses.most_common(1)[0][0] == "SUCCESS" and word_statuses["NOISE"] and word_statuses["FAILED"]
    assert all(i["GSI1PK"] == f"EMBEDDING_STATUS#{i['embedding_status']}" for i in items if "embedding_status" in i)
    batch_types = Counter(i["batch_type"] for i in items if i["TYPE"] == "BATCH_SUMMARY")
    assert batch_types["WORD_EMBEDDING"] and batch_types["LINE_EMBEDDING"]
    locks = [i for i in items if i["TYPE"] == "COMPACTION_LOCK"]
    assert len(locks) == 1 and locks[0]["expires"] < time.strftime("%Y-%m-%d")

    assert len(seeded.state_machines) == 4
    statuses = execution_statuses(sfn, list(seeded.state_machines.values()))
    assert "RUNNING" in statuses.values()


def test_corrupt_lines_is_caught_by_verify_while_words_stay_healthy(seeded, cli):
    result = cli("verify", "--bucket", seeded.bucket, "--table", seeded.table, "--json")
    assert result.exit_code == 1
    by_name = {c["collection"]: c for c in result.json()["collections"]}
    assert by_name["words"]["healthy"] is True
    assert by_name["lines"]["healthy"] is False
    assert {c["name"]: c["status"] for c in by_name["lines"]["checks"]}["sqlite"] == "fail"


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chroma_cleanup", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_env_sandbox_works_while_the_sandbox_runs_and_not_after(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "none")
    state_file = Path(env["XDG_STATE_HOME"]) / "chroma-cleanup" / "sandbox.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "chroma_cleanup", "sandbox", "--receipts", "20"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not state_file.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert state_file.exists(), process.stdout.read() if process.poll() is not None else "timed out"
        endpoint = json.loads(state_file.read_text())["endpoint_url"]
        assert endpoint.startswith("http://127.0.0.1:")

        plan = _cli("all", "--env", "sandbox", "--dry-run", "--json", env=env)
        assert plan.returncode == 0, plan.stderr
        doc = json.loads(plan.stdout)
        assert [s["step"] for s in doc["steps"]] == ["snapshots", "snapshots", "embeddings", "batches"]
        assert all(s["planned"] > 0 for s in doc["steps"])
        assert doc["warnings"], "RUNNING executions should be warned about"

        second = _cli("sandbox", env=env)
        assert second.returncode == 2 and "already running" in second.stderr
        assert json.loads(state_file.read_text())["endpoint_url"] == endpoint  # the first one's state is intact
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0
    assert not state_file.exists()
    after = _cli("config", "--env", "sandbox", env=env)
    assert after.returncode == 2 and "sandbox is not running" in after.stderr
