"""`executions`: every RUNNING execution of the pipeline's state machines ends ABORTED; nothing else is touched."""

from __future__ import annotations

import json

import pytest
from builders import execution_statuses, make_state_machine, start
from fault_proxy import Rule, is_target, json_error

STOP = "AWSStepFunctions.StopExecution"
PIPELINE = [
    "word-ingest-sf-dev-1a2b3c",
    "line-ingest-sf-dev-4d5e6f",
    "word-submit-sf-dev-7a8b9c",
    "line-submit-sf-dev-0d1e2f",
]
LOOK_ALIKES = [
    "word-ingest-sf-prod-x",
    "other-sf",
    "word-ingest-sf-devx-1",
    "word-ingest-sf-dev",
    "dev-line-ingest-sf-dev-9",
]


@pytest.fixture
def sfn(aws):
    return aws.client("stepfunctions")


def machines(sfn, names: list[str], running: int, monkeypatch=None, finished: int = 0) -> dict[str, dict]:
    """Per name: its ARN, `running` RUNNING executions and, if asked, `finished` ABORTED and FAILED ones."""
    made = {}
    for name in names:
        arn = make_state_machine(sfn, name)
        entry = {"arn": arn, "running": start(sfn, arn, [f"manual-run-{n}-word" for n in range(running)])}
        entry["aborted"] = start(sfn, arn, [f"old-aborted-{n}" for n in range(finished)])
        for execution in entry["aborted"]:
            sfn.stop_execution(executionArn=execution)
        if finished:
            monkeypatch.setenv("SF_EXECUTION_HISTORY_TYPE", "FAILURE")  # moto then starts executions as FAILED
            entry["failed"] = start(sfn, arn, [f"old-failed-{n}" for n in range(finished)])
            monkeypatch.delenv("SF_EXECUTION_HISTORY_TYPE")
        made[name] = entry
    return made


def expected_statuses(made: dict[str, dict], stopped: list[str]) -> dict[str, str]:
    """RUNNING executions of the `stopped` machines become ABORTED; every other status stays."""
    expected = {}
    for name, entry in made.items():
        for arn in entry["running"]:
            expected[arn] = "ABORTED" if name in stopped else "RUNNING"
        expected |= {arn: "ABORTED" for arn in entry["aborted"]}
        expected |= {arn: "FAILED" for arn in entry.get("failed", [])}
    return expected


def statuses(sfn, made: dict[str, dict]) -> dict[str, str]:
    return execution_statuses(sfn, [m["arn"] for m in made.values()])


def counts(step: dict) -> tuple[int, int, int, int]:
    return step["planned"], step["changed"], step["unchanged"], step["failed"]


def test_state_machines_from_repeated_flag(sfn, cli, monkeypatch):
    made = machines(sfn, PIPELINE[:2] + ["other-sf"], running=3, monkeypatch=monkeypatch, finished=1)
    assert set(statuses(sfn, made).values()) == {"RUNNING", "ABORTED", "FAILED"}
    given = PIPELINE[:2]

    result = cli(
        "executions",
        *[arg for name in given for arg in ("--state-machine", made[name]["arn"])],
        "--wait",
        "0",
        "--yes",
        "--json",
    )

    assert result.exit_code == 0, result.stderr
    assert statuses(sfn, made) == expected_statuses(made, given)
    doc = result.json()
    assert (doc["command"], doc["status"]) == ("executions", "ok")
    (step,) = doc["steps"]
    assert step["step"] == "executions"
    assert counts(step) == (6, 6, 0, 0)


def test_state_machines_from_the_outputs_file(sfn, cli, tmp_path):
    made = machines(sfn, PIPELINE, running=2)
    outputs = {
        "dynamodb_table_name": "ReceiptsTable-dc5be22",
        "embedding_chromadb_bucket_name": "chromadb-dev-shared-buckets-vectors-c239843",
        "embedding_word_ingest_sf_arn": {"value": made[PIPELINE[0]]["arn"]},
        "embedding_line_ingest_sf_arn": made[PIPELINE[1]]["arn"],
    }
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))

    # --env dev would also find the other two by name: the outputs' ARNs win, so those two keep running.
    result = cli("executions", "--env", "dev", "--outputs-file", "outputs.json", "--wait", "0", "--yes", "--json")

    assert result.exit_code == 0, result.stderr
    assert statuses(sfn, made) == expected_statuses(made, PIPELINE[:2])
    assert counts(result.json()["steps"][0]) == (4, 4, 0, 0)


@pytest.mark.parametrize("with_outputs", [True, False], ids=["outputs-without-arns", "no-outputs"])
def test_state_machines_found_by_name_for_the_env(sfn, cli, tmp_path, with_outputs):
    made = machines(sfn, PIPELINE + LOOK_ALIKES, running=2)
    args = []
    if with_outputs:
        outputs = {"dynamodb_table_name": "ReceiptsTable-dc5be22", "chromadb_bucket_name": "chromadb-dev"}
        (tmp_path / "outputs.json").write_text(json.dumps(outputs))
        args = ["--outputs-file", "outputs.json"]

    result = cli("executions", "--env", "dev", *args, "--wait", "0", "--yes", "--json")

    assert result.exit_code == 0, result.stderr
    assert statuses(sfn, made) == expected_statuses(made, PIPELINE)
    assert counts(result.json()["steps"][0]) == (8, 8, 0, 0)


def test_no_state_machine_named_for_the_env_is_a_usage_error(sfn, cli):
    made = machines(sfn, PIPELINE + LOOK_ALIKES, running=1)
    before = statuses(sfn, made)

    result = cli("executions", "--env", "qa", "--wait", "0", "--yes")

    assert result.exit_code == 2
    assert statuses(sfn, made) == before
    assert "word-ingest-sf-qa-" in result.stderr and "--state-machine" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_more_than_one_page_of_running_executions_all_stopped(sfn, cli, proxy, monkeypatch):
    # moto's ListExecutions pages hold 100 executions (AWS: up to 1,000): 120 RUNNING make two pages.
    made = machines(sfn, PIPELINE[:1], running=120, monkeypatch=monkeypatch, finished=3)
    entry = made[PIPELINE[0]]
    listings, stopped = [], []

    def record(req, forward):
        body = json.loads(req.body)
        if is_target("ListExecutions")(req):
            listings.append(body)
        else:
            stopped.append(body["executionArn"])
        return forward(req)

    proxy.rules.append(Rule(lambda r: is_target("ListExecutions")(r) or is_target("StopExecution")(r), record))

    result = cli(
        "executions", "--state-machine", entry["arn"], "--endpoint-url", proxy.url, "--wait", "0", "--yes", "--json"
    )

    assert result.exit_code == 0, result.stderr
    assert statuses(sfn, made) == expected_statuses(made, PIPELINE[:1])
    assert sorted(stopped) == sorted(entry["running"])  # each once; finished ones never sent a stop
    assert sum(1 for body in listings if body.get("nextToken")) >= 2  # plan and apply each read page two
    assert all(body.get("statusFilter") == "RUNNING" for body in listings)
    assert counts(result.json()["steps"][0]) == (120, 120, 0, 0)


def test_a_failed_stop_is_reported_with_its_name_and_code(sfn, cli, proxy):
    made = machines(sfn, PIPELINE[:2], running=3)
    victim = made[PIPELINE[1]]["running"][1]
    proxy.rules.append(
        Rule(
            lambda r: is_target("StopExecution")(r) and json.loads(r.body)["executionArn"] == victim,
            json_error(400, "AccessDeniedException", "not authorized to stop this execution"),
        )
    )

    result = cli(
        "executions",
        *[arg for m in made.values() for arg in ("--state-machine", m["arn"])],
        "--endpoint-url",
        proxy.url,
        "--wait",
        "0",
        "--yes",
        "--json",
    )

    assert result.exit_code == 1
    expected = expected_statuses(made, PIPELINE[:2]) | {victim: "RUNNING"}
    assert statuses(sfn, made) == expected
    doc = result.json()
    assert doc["status"] == "partial"
    step = doc["steps"][0]
    assert counts(step) == (6, 5, 0, 1)
    assert [(e["id"], e["code"]) for e in step["errors"]] == [("manual-run-1-word", "AccessDeniedException")]


def test_a_stop_that_answers_ok_but_leaves_the_execution_running_is_a_failure(sfn, cli, proxy):
    made = machines(sfn, PIPELINE[:1], running=2)
    stuck = made[PIPELINE[0]]["running"][0]

    def pretend(req, forward):
        return 200, {"content-type": "application/x-amz-json-1.0"}, b'{"stopDate": 1763227098.0}'

    proxy.rules.append(
        Rule(lambda r: is_target("StopExecution")(r) and json.loads(r.body)["executionArn"] == stuck, pretend)
    )

    result = cli(
        "executions",
        "--state-machine",
        made[PIPELINE[0]]["arn"],
        "--endpoint-url",
        proxy.url,
        "--wait",
        "0",
        "--yes",
        "--json",
    )

    assert result.exit_code == 1
    assert statuses(sfn, made) == expected_statuses(made, PIPELINE[:1]) | {stuck: "RUNNING"}
    step = result.json()["steps"][0]
    assert counts(step) == (2, 1, 0, 1)
    assert [(e["id"], e["code"]) for e in step["errors"]] == [("manual-run-0-word", "StillRunning")]


def test_nothing_running_changes_nothing_and_says_so(sfn, cli, monkeypatch):
    made = machines(sfn, PIPELINE[:1], running=0, monkeypatch=monkeypatch, finished=2)
    before = statuses(sfn, made)

    result = cli("executions", "--state-machine", made[PIPELINE[0]]["arn"], "--wait", "0", "--yes")

    assert result.exit_code == 0, result.stderr
    assert statuses(sfn, made) == before
    assert "nothing to change" in result.stdout
