"""`all` and the safety rules every destructive command shares: dry run, confirmation, prod refusal, exit codes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

import builders
import pytest
from builders import (
    all_items,
    batch,
    execution_statuses,
    line,
    lock,
    make_bucket,
    make_state_machine,
    make_table,
    put_items,
    put_keys,
    start,
    word,
)
from fault_proxy import Rule, is_delete_objects, is_target, json_error, s3_error

IMAGE = "3f52804b-2fad-4e00-92c8-b593da3a8ed3"
SNAPSHOT_KEYS = {
    "words": [
        "words/snapshot/timestamped/20251115_171818/chroma.sqlite3",  # two versions, see below
        "words/snapshot/timestamped/20251115_171818/8c1e5a77-3f0b-4c6e-9a51-0d4f2b9e7c11/header.bin",
        "words/snapshot/latest-pointer.txt",
        "words/snapshot/latest/chroma.sqlite3",
    ],
    "lines": [
        "lines/snapshot/timestamped/20251115_171818/chroma.sqlite3",
        "lines/snapshot/latest-pointer.txt",
    ],
}
REWRITTEN = "words/snapshot/timestamped/20251115_171818/chroma.sqlite3"
ALREADY_DELETED = "words/snapshot/timestamped/20251101_000000/chroma.sqlite3"  # one version and a delete marker
KEEP_KEYS = [
    "words/delta/words/receipt_words/00001/delta.tar.gz",
    "lines/delta/run-1/delta.tar.gz",
    "delta/legacy/delta.tar.gz",
    "snapshot/.placeholder",
    "delta/.placeholder",
    "snapshot/latest/pointer.txt",
    "intermediate/a.json",
    "poll_results/a.json",
    "words/snapshots/look-alike",
    "wordsx/snapshot/look-alike",
]
# What the seed holds, counted by hand: current snapshot objects per collection; every version and marker.
CURRENT = {"words": 4, "lines": 2}
VERSIONS = {"words": 4 + 1 + 2, "lines": 2}  # + the second version of REWRITTEN, + ALREADY_DELETED's version and marker


def words() -> list[dict]:
    statuses = ["SUCCESS"] * 6 + ["FAILED"] * 2 + ["PENDING", "NONE", "NONE", "NOISE"]
    items = [word(IMAGE, 1, 1, n, status) for n, status in enumerate(statuses, 1)]
    items.append({**word(IMAGE, 1, 2, 1, "NONE"), "GSI1PK": "EMBEDDING_STATUS#SUCCESS"})  # stale index key
    return items


WORDS_TO_RESET = 6 + 2 + 1 + 1  # SUCCESS, FAILED, PENDING, the stale NONE
OTHER_ITEMS = [
    line(IMAGE, 1, 1, "SUCCESS"),
    line(IMAGE, 1, 2, "FAILED"),
    {"PK": f"IMAGE#{IMAGE}", "SK": "RECEIPT#00001", "TYPE": "RECEIPT", "timestamp_added": "2025-11-15T17:18:18Z"},
    batch("w-1", "WORD_EMBEDDING", "COMPLETED"),
    batch("w-2", "WORD_EMBEDDING", "FAILED"),
    batch("w-3", "WORD_EMBEDDING", "IN_PROGRESS"),
    batch("w-4", "WORD_EMBEDDING", "PENDING"),
    batch("l-1", "LINE_EMBEDDING", "COMPLETED"),
    batch("c-1", "COMPLETION", "COMPLETED"),
    lock("words", "2000-01-01T00:00:00+00:00"),
]
BATCHES_TO_RESET = 3
PIPELINE = ["word-ingest-sf-dev-1a2b3c", "line-ingest-sf-dev-4d5e6f"]
RUNNING_PER_MACHINE = 2
RUNNING = RUNNING_PER_MACHINE * len(PIPELINE)
MUTATING_JSON = (
    "UpdateItem",
    "PutItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "StopExecution",
    "StartExecution",
)


@pytest.fixture
def world(aws):
    """A fully seeded local AWS: versioned bucket, table, and state machines with RUNNING and ABORTED runs."""
    s3, ddb, sfn = aws.client("s3"), aws.client("dynamodb"), aws.client("stepfunctions")
    bucket, table = make_bucket(s3), make_table(ddb)
    put_keys(s3, bucket, [k for keys in SNAPSHOT_KEYS.values() for k in keys] + KEEP_KEYS + [ALREADY_DELETED])
    put_keys(s3, bucket, [REWRITTEN], body=b"second version")
    s3.delete_object(Bucket=bucket, Key=ALREADY_DELETED)
    put_items(ddb, table, words() + OTHER_ITEMS)
    machines = {}
    for name in [*PIPELINE, "other-sf"]:
        arn = make_state_machine(sfn, name)
        running = start(sfn, arn, [f"manual-run-{n}-word" for n in range(RUNNING_PER_MACHINE)])
        (old,) = start(sfn, arn, ["manual-run-old"])
        sfn.stop_execution(executionArn=old)
        machines[name] = {"arn": arn, "running": running, "old": old}
    targets = [arg for name in PIPELINE for arg in ("--state-machine", machines[name]["arn"])]
    w = {
        "s3": s3,
        "ddb": ddb,
        "sfn": sfn,
        "bucket": bucket,
        "table": table,
        "machines": machines,
        "args": ["--bucket", bucket, "--table", table, *targets],
    }
    w["before"] = state(w)
    assert len(w["before"]["items"]) == len(words()) + len(OTHER_ITEMS)
    assert sorted(w["before"]["executions"].values()).count("RUNNING") == RUNNING + RUNNING_PER_MACHINE
    return w


def state(w) -> dict:
    """Everything the tool could change: every object version and delete marker, every item with every
    attribute, the status of every execution of every state machine."""
    objects = set()
    for page in w["s3"].get_paginator("list_object_versions").paginate(Bucket=w["bucket"]):
        objects |= {(v["Key"], v["VersionId"], v["IsLatest"], v["ETag"], False) for v in page.get("Versions", [])}
        objects |= {(m["Key"], m["VersionId"], m["IsLatest"], None, True) for m in page.get("DeleteMarkers", [])}
    arns = [m["stateMachineArn"] for m in w["sfn"].list_state_machines()["stateMachines"]]
    return {
        "objects": objects,
        "items": all_items(w["ddb"], w["table"]),
        "executions": execution_statuses(w["sfn"], arns),
    }


def current_keys(objects: set) -> set[str]:
    return {key for key, _, latest, _, marker in objects if latest and not marker}


def cleaned_items(items: list[dict], *, dynamo: bool = True) -> list[dict]:
    """The table after `all`: word statuses and WORD_EMBEDDING summaries reset, with their GSI1PK."""
    out = []
    for item in items:
        if dynamo and item["TYPE"] == "RECEIPT_WORD" and item["embedding_status"] != "NOISE":
            item = {**item, "embedding_status": "NONE", "GSI1PK": "EMBEDDING_STATUS#NONE"}
        if dynamo and item["TYPE"] == "BATCH_SUMMARY" and item["batch_type"] == "WORD_EMBEDDING":
            item = {**item, "status": "PENDING", "GSI1PK": "STATUS#PENDING"}
        out.append(item)
    return out


def stopped_executions(w, before: dict[str, str]) -> dict[str, str]:
    stopped = {arn for name in PIPELINE for arn in w["machines"][name]["running"]}
    return {arn: "ABORTED" if arn in stopped else status for arn, status in before.items()}


def assert_snapshots_deleted(before: set, after: set) -> None:
    def versions(objects: set) -> set:
        return {(key, version, etag, marker) for key, version, _, etag, marker in objects}

    assert versions(before) <= versions(after)  # no version removed: the default delete is recoverable
    assert current_keys(after) == set(KEEP_KEYS)
    new_markers = {key for key, _, _, marker in versions(after) - versions(before) if marker}
    assert new_markers == {k for keys in SNAPSHOT_KEYS.values() for k in keys}


def steps_of(doc: dict) -> list[tuple[str, int]]:
    return [(s["step"], s["planned"]) for s in doc["steps"]]


def mutating(seen: list[str]) -> list[str]:
    """Requests that could change something: JSON operations by name; any S3 request but GET and HEAD."""
    return [
        op
        for op in seen
        if op.endswith(tuple("." + m for m in MUTATING_JSON)) or op.startswith(("PUT", "DELETE", "POST"))
    ]


# --- the whole run --------------------------------------------------------------------------------------------


def test_all_runs_executions_snapshots_embeddings_batches_in_that_order(world, cli, proxy):
    order = []

    def record(req, forward):
        if req.target:
            body = json.loads(req.body)
            kind = "batches" if body.get("Key", {}).get("PK", {}).get("S", "").startswith("BATCH#") else "embeddings"
            order.append("executions" if is_target("StopExecution")(req) else kind)
        else:
            order.append("snapshots")
        return forward(req)

    def is_change(req) -> bool:
        return is_target("StopExecution")(req) or is_target("UpdateItem")(req) or is_delete_objects(req)

    proxy.rules.append(Rule(is_change, record))

    result = cli(
        "all", *world["args"], "--stop-executions", "--wait", "0", "--yes", "--json", "--endpoint-url", proxy.url
    )

    assert result.exit_code == 0, result.stderr
    doc = result.json()
    assert (doc["command"], doc["status"], doc["dry_run"]) == ("all", "ok", False)
    assert steps_of(doc) == [
        ("executions", RUNNING),
        ("snapshots", CURRENT["words"]),
        ("snapshots", CURRENT["lines"]),
        ("embeddings", WORDS_TO_RESET),
        ("batches", BATCHES_TO_RESET),
    ]
    assert [s["changed"] for s in doc["steps"]] == [s["planned"] for s in doc["steps"]]
    # the calls themselves went out in that order, each step finished before the next began
    assert [k for i, k in enumerate(order) if i == 0 or order[i - 1] != k] == [
        "executions",
        "snapshots",
        "embeddings",
        "batches",
    ]
    after = state(world)
    assert after["items"] == cleaned_items(world["before"]["items"])
    assert after["executions"] == stopped_executions(world, world["before"]["executions"])
    assert_snapshots_deleted(world["before"]["objects"], after["objects"])


def test_skip_s3_leaves_the_bucket_alone(world, cli):
    result = cli("all", *world["args"], "--skip-s3", "--yes", "--json")

    assert result.exit_code == 0, result.stderr
    assert steps_of(result.json()) == [("embeddings", WORDS_TO_RESET), ("batches", BATCHES_TO_RESET)]
    after = state(world)
    assert after["objects"] == world["before"]["objects"]
    assert after["items"] == cleaned_items(world["before"]["items"])
    assert after["executions"] == world["before"]["executions"]  # no --stop-executions


def test_skip_dynamo_leaves_the_table_alone(world, cli):
    result = cli("all", *world["args"], "--skip-dynamo", "--yes", "--json")

    assert result.exit_code == 0, result.stderr
    assert steps_of(result.json()) == [("snapshots", CURRENT["words"]), ("snapshots", CURRENT["lines"])]
    after = state(world)
    assert after["items"] == world["before"]["items"]
    assert after["executions"] == world["before"]["executions"]
    assert_snapshots_deleted(world["before"]["objects"], after["objects"])


def test_running_executions_without_stop_executions_are_a_warning_and_only_then(world, cli):
    as_json = cli("all", *world["args"], "--dry-run", "--json")
    human = cli("all", *world["args"], "--dry-run")

    assert as_json.exit_code == 0 and human.exit_code == 0
    doc = as_json.json()
    assert "executions" not in [s["step"] for s in doc["steps"]]
    (warning,) = doc["warnings"]
    assert f"{RUNNING} execution" in warning and "--stop-executions" in warning
    shown = human.stdout + human.stderr
    assert "warning" in shown and f"{RUNNING} execution" in shown and "--stop-executions" in shown

    for machine in world["machines"].values():
        for arn in machine["running"]:
            world["sfn"].stop_execution(executionArn=arn)
    quiet = cli("all", *world["args"], "--dry-run", "--json")

    assert quiet.exit_code == 0, quiet.stderr
    assert quiet.json()["warnings"] == []


def test_second_run_of_all_changes_nothing_and_says_so(world, cli):
    first = cli("all", *world["args"], "--stop-executions", "--wait", "0", "--yes")
    assert first.exit_code == 0, first.stderr
    between = state(world)

    as_json = cli("all", *world["args"], "--stop-executions", "--wait", "0", "--yes", "--json")
    human = cli("all", *world["args"], "--stop-executions", "--wait", "0", "--yes")

    assert as_json.exit_code == 0 and human.exit_code == 0
    assert state(world) == between
    steps = as_json.json()["steps"]
    assert [(s["step"], s["planned"], s["changed"]) for s in steps] == [
        (name, 0, 0) for name in ("executions", "snapshots", "snapshots", "embeddings", "batches")
    ]
    # already done: the markers left by the first run, every word but the NOISE one, every WORD_EMBEDDING summary
    assert [s["unchanged"] for s in steps] == [0, CURRENT["words"] + 1, CURRENT["lines"], len(words()) - 1, 4]
    assert "nothing to change" in human.stdout


# --- dry run: the complete state before and after ---------------------------------------------------------------

DRY_RUNS = {
    "snapshots": (["snapshots"], [("snapshots", CURRENT["words"]), ("snapshots", CURRENT["lines"])]),
    "snapshots-purge": (
        ["snapshots", "--purge-versions"],
        [("snapshots", VERSIONS["words"]), ("snapshots", VERSIONS["lines"])],
    ),
    "embeddings": (["embeddings"], [("embeddings", WORDS_TO_RESET)]),
    "batches": (["batches"], [("batches", BATCHES_TO_RESET)]),
    "executions": (["executions", "--wait", "0"], [("executions", RUNNING)]),
    "all": (
        ["all", "--stop-executions", "--wait", "0"],
        [
            ("executions", RUNNING),
            ("snapshots", CURRENT["words"]),
            ("snapshots", CURRENT["lines"]),
            ("embeddings", WORDS_TO_RESET),
            ("batches", BATCHES_TO_RESET),
        ],
    ),
}
READS = {  # one read each step must have sent, so a run that bypassed the proxy cannot pass
    "snapshots": "GET /chromadb-test-vectors?versions",
    "embeddings": "DynamoDB_20120810.Query",
    "batches": "DynamoDB_20120810.Query",
    "executions": "AWSStepFunctions.ListExecutions",
}


def test_dry_run_changes_nothing_and_plans_the_right_counts(world, cli, proxy):
    for case, (args, expected_steps) in DRY_RUNS.items():
        proxy.seen.clear()

        result = cli(*args, *world["args"], "--dry-run", "--json", "--endpoint-url", proxy.url)

        assert result.exit_code == 0, (case, result.stderr)
        assert state(world) == world["before"], case
        doc = result.json()
        assert (doc["dry_run"], doc["status"]) == (True, "ok"), case
        assert steps_of(doc) == expected_steps, case
        assert all((s["changed"], s["failed"], s["applied"]) == (0, 0, False) for s in doc["steps"]), case
        assert mutating(proxy.seen) == [], case
        for step, _ in expected_steps:
            assert any(op.startswith(READS[step]) for op in proxy.seen), (case, step, proxy.seen)


def test_dry_run_human_output_says_nothing_was_changed(world, cli):
    result = cli("all", *world["args"], "--stop-executions", "--dry-run")

    assert result.exit_code == 0, result.stderr
    assert state(world) == world["before"]
    total = RUNNING + CURRENT["words"] + CURRENT["lines"] + WORDS_TO_RESET + BATCHES_TO_RESET
    assert f"{total} would change" in result.stdout and "nothing was changed" in result.stdout


# --- confirmation -----------------------------------------------------------------------------------------------


def test_without_yes_and_without_a_terminal_nothing_changes(world, cli):
    for command in (["all", "--stop-executions", "--wait", "0"], ["embeddings"], ["snapshots"], ["executions"]):
        result = cli(*command, *world["args"])

        assert result.exit_code == 2, command
        assert state(world) == world["before"], command
        assert "--yes" in result.stderr, command
        assert "Traceback" not in result.stderr, command


def run_on_a_terminal(args: list[str], typed: str) -> subprocess.CompletedProcess:
    """The real console entry point with a pty as stdin, so it sees a terminal and asks."""
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chroma_cleanup", *args],
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ),
        )
        os.close(terminal)
        os.write(controller, typed.encode() + b"\n")
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(controller)
    return subprocess.CompletedProcess(args, proc.returncode, out.decode(), err.decode())


def test_typing_the_env_name_on_a_terminal_applies(world):
    result = run_on_a_terminal(["embeddings", "--env", "dev", "--table", world["table"]], "dev")

    assert result.returncode == 0, result.stderr
    assert "Type dev" in result.stderr
    expected = [i for i in cleaned_items(world["before"]["items"]) if i["TYPE"] != "BATCH_SUMMARY"]
    after = state(world)
    assert [i for i in after["items"] if i["TYPE"] != "BATCH_SUMMARY"] == expected
    assert [i for i in after["items"] if i["TYPE"] == "BATCH_SUMMARY"] == [
        i for i in world["before"]["items"] if i["TYPE"] == "BATCH_SUMMARY"
    ]


@pytest.mark.parametrize("typed", ["yes", "DEV"])
def test_typing_anything_else_on_a_terminal_changes_nothing(world, typed):
    result = run_on_a_terminal(
        ["all", "--env", "dev", *world["args"], "--stop-executions", "--wait", "0", "--json"], typed
    )

    assert result.returncode == 1
    assert state(world) == world["before"]
    assert "nothing was changed" in result.stderr
    assert json.loads(result.stdout)["status"] == "error"


# --- production -------------------------------------------------------------------------------------------------

PROD = {
    "env prod": (["--env", "prod"], {}),
    "env prod, dry run": (["--env", "prod", "--dry-run"], {}),
    "env production-eu": (["--env", "production-eu"], {}),
    "stack": (["--stack", "org/proj/prod"], {}),
    "env variable": ([], {"CHROMA_CLEANUP_ENV": "prod"}),
}


def test_prod_is_refused(world, cli, monkeypatch):
    for case, (args, variables) in PROD.items():
        with monkeypatch.context() as patch:
            for name, value in variables.items():
                patch.setenv(name, value)
            result = cli("all", *args, *world["args"], "--stop-executions", "--wait", "0", "--yes", "--json")

        assert result.exit_code == 1, case
        assert state(world) == world["before"], case
        assert result.json()["status"] == "error", case
        assert "prod" in result.stderr and "--allow-prod" in result.stderr, case


def test_prod_is_allowed_with_allow_prod(world, cli):
    result = cli(
        "all",
        *("--env", "production-eu", "--stack", "org/proj/prod"),
        *world["args"],
        *("--stop-executions", "--wait", "0", "--yes", "--json", "--allow-prod"),
    )

    assert result.exit_code == 0, result.stderr
    after = state(world)
    assert after["items"] == cleaned_items(world["before"]["items"])
    assert after["executions"] == stopped_executions(world, world["before"]["executions"])
    assert_snapshots_deleted(world["before"]["objects"], after["objects"])


# --- one JSON document and the documented exit codes --------------------------------------------------------------


def test_json_is_one_document_on_stdout_for_every_outcome(world, cli, tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    cases = {
        "success": (["batches", "--yes"], 0, "ok"),
        "dry-run": (["all", "--stop-executions", "--wait", "0", "--dry-run"], 0, "ok"),
        "lock refused": (["snapshots", "--yes"], 1, "failed"),
        "prod refused": (["embeddings", "--env", "prod", "--yes"], 1, "error"),
        "not confirmed": (["embeddings"], 2, "error"),
        "missing table": (["embeddings", "--yes", "--table", "no-such-table"], 2, "error"),
        "malformed outputs": (["embeddings", "--yes", "--outputs-file", "broken.json"], 2, "error"),
    }
    for name, (args, exit_code, status) in cases.items():
        if name == "lock refused":
            put_items(world["ddb"], world["table"], [lock("lines", "2999-01-01T00:00:00+00:00", "busy")])
        extra = [] if "--table" in args else world["args"]
        if "--outputs-file" in args:
            extra = []
        result = cli(*args, *extra, "--json")
        assert result.exit_code == exit_code, (name, result.stderr)
        doc = json.loads(result.stdout)  # the whole of stdout is one document
        assert isinstance(doc, dict) and doc["status"] == status, name
        assert "Traceback" not in result.stderr, name
        if status == "error":
            assert doc["error"]["message"] and result.stderr.startswith("error:"), name


def test_json_usage_error_is_one_document(world, cli):
    result = cli("embeddings", *world["args"], "--workers", "0", "--json")

    assert result.exit_code == 2
    json.loads(result.stdout)


def test_a_usage_error_exits_2_and_changes_nothing(world, cli):
    result = cli("embeddings", *world["args"], "--workers", "0", "--yes")

    assert result.exit_code == 2
    assert state(world) == world["before"]


# --- failures while applying: exit 1 with what was and was not done --------------------------------------------


def test_a_delete_request_refused_as_a_whole_counts_every_key_as_failed(world, cli, proxy):
    proxy.rules.append(Rule(is_delete_objects, s3_error(403, "AccessDenied", "Access Denied")))

    result = cli("snapshots", *world["args"], "--yes", "--json", "--endpoint-url", proxy.url)

    assert result.exit_code == 1, result.stderr
    assert state(world) == world["before"]
    doc = result.json()
    assert doc["status"] == "failed"
    assert [(s["changed"], s["failed"]) for s in doc["steps"]] == [(0, CURRENT["words"]), (0, CURRENT["lines"])]
    errors = [e for s in doc["steps"] for e in s["errors"]]
    assert {(e["id"], e["code"]) for e in errors} == {
        (key, "AccessDenied") for keys in SNAPSHOT_KEYS.values() for key in keys
    }


@pytest.mark.parametrize("code", ["AccessDeniedException", "ValidationException"])
def test_a_step_failing_as_a_whole_mid_run_reports_what_the_earlier_steps_did(world, cli, proxy, code):
    word_queries = []

    def second_word_listing(req) -> bool:
        """The apply's listing of the words (the plan's went through): fails, after snapshots were deleted."""
        if not is_target("Query")(req) or b"RECEIPT_WORD" not in req.body:
            return False
        word_queries.append(req)
        return len(word_queries) > 1

    proxy.rules.append(Rule(second_word_listing, json_error(400, code, "injected")))

    result = cli(
        "all", *world["args"], "--stop-executions", "--wait", "0", "--yes", "--json", "--endpoint-url", proxy.url
    )

    assert result.exit_code == 1, result.stderr
    after = state(world)
    assert after["executions"] == stopped_executions(world, world["before"]["executions"])
    assert_snapshots_deleted(world["before"]["objects"], after["objects"])
    assert after["items"] == world["before"]["items"]
    doc = result.json()
    assert doc["status"] == "partial"
    steps = {s["step"]: s for s in doc["steps"]}
    assert [s["changed"] for s in doc["steps"][:3]] == [RUNNING, CURRENT["words"], CURRENT["lines"]]
    assert (steps["embeddings"]["changed"], steps["embeddings"]["failed"]) == (0, 1)
    (error,) = steps["embeddings"]["errors"]
    assert code in error["code"] + error["message"]
    assert (steps["batches"]["changed"], steps["batches"]["applied"]) == (0, False)


def test_an_unexpired_lock_refuses_the_whole_of_all(world, cli):
    put_items(world["ddb"], world["table"], [lock("lines", "2999-01-01T00:00:00+00:00", "busy")])
    before = state(world)

    result = cli("all", *world["args"], "--stop-executions", "--wait", "0", "--yes", "--json")

    assert result.exit_code == 1
    assert state(world) == before  # not even the executions were stopped
    doc = result.json()
    assert doc["status"] == "failed"
    assert [s["step"] for s in doc["steps"] if s["refused"]] == ["snapshots"]
    assert "LOCK#lines#busy" in [s for s in doc["steps"] if s["refused"]][0]["refused"]


def test_a_bucket_or_table_named_for_production_is_refused(aws, cli):
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    prod_bucket = make_bucket(s3, "chromadb-prod-vectors")
    put_keys(s3, prod_bucket, ["words/snapshot/latest-pointer.txt"])
    test_table, prod_table = make_table(ddb, "ReceiptsTable-test"), make_table(ddb, "ReceiptsTable-Prod")
    put_items(ddb, prod_table, [word(IMAGE, 1, 1, 1, "SUCCESS")])
    before = (builders.current_keys(s3, prod_bucket), all_items(ddb, prod_table))

    by_bucket = cli("snapshots", "--bucket", prod_bucket, "--table", test_table, "--yes")
    by_table = cli("embeddings", "--table", prod_table, "--yes")

    for result in (by_bucket, by_table):
        assert result.exit_code == 1, result.stderr
        assert "looks like production" in result.stderr
    assert (builders.current_keys(s3, prod_bucket), all_items(ddb, prod_table)) == before
    allowed = cli("snapshots", "--bucket", prod_bucket, "--table", test_table, "--yes", "--allow-prod")
    assert allowed.exit_code == 0 and builders.current_keys(s3, prod_bucket) == set()
