"""Inputs a user can get wrong: one readable error line and a hint on stderr, exit code 2, never a traceback, and
nothing changed. Each case runs `all --yes` (no dry run), so a case that failed to stop would change the world."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from builders import (
    all_items,
    all_versions,
    batch,
    execution_statuses,
    make_bucket,
    make_state_machine,
    make_table,
    put_items,
    put_keys,
    start,
    word,
)

from chroma_cleanup.errors import EXIT_USAGE

BUCKET = "chromadb-test-vectors"
TABLE = "ReceiptsTable-test"
NAMES = ["--bucket", BUCKET, "--table", TABLE]
ENTRY_POINT = Path(sys.executable).with_name("chroma-cleanup")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class World:
    """A small real environment: everything `all --yes` would change if it got that far."""

    aws: object
    machine: str

    def state(self) -> tuple:
        s3, ddb, sfn = (self.aws.client(s) for s in ("s3", "dynamodb", "stepfunctions"))
        return all_versions(s3, BUCKET), all_items(ddb, TABLE), execution_statuses(sfn, [self.machine])


@pytest.fixture
def world(aws) -> World:
    s3, ddb, sfn = (aws.client(s) for s in ("s3", "dynamodb", "stepfunctions"))
    make_bucket(s3, BUCKET)
    put_keys(s3, BUCKET, ["words/snapshot/latest-pointer.txt", "lines/snapshot/latest/chroma.sqlite3", "delta/x"])
    make_table(ddb, TABLE)
    put_items(ddb, TABLE, [word("img", 1, 1, 1, "SUCCESS"), batch("b-1", "WORD_EMBEDDING", "COMPLETED")])
    machine = make_state_machine(sfn, "word-ingest-sf-dev-abc")
    start(sfn, machine, ["manual-run-1-word"])
    return World(aws, machine)


@dataclass
class Case:
    """Sets up one mistake; returns the arguments and a piece of the expected error line."""

    setup: Callable[[Path, pytest.MonkeyPatch], tuple[list[str], str]]
    hint_has: tuple[str, ...] = ()


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _no_pulumi(tmp: Path, mp: pytest.MonkeyPatch) -> None:
    (tmp / "empty-bin").mkdir(exist_ok=True)
    mp.setenv("PATH", str(tmp / "empty-bin"))


def no_names(tmp, mp):
    _no_pulumi(tmp, mp)
    return [], "no bucket name: no --env was given"


def unknown_env_without_pulumi(tmp, mp):
    _no_pulumi(tmp, mp)
    return ["--env", "nope"], "no Pulumi outputs could be read for stack tnorlund/portfolio/nope"


def outputs_file_missing(tmp, mp):
    return ["--outputs-file", str(tmp / "nope.json")], f"outputs file {tmp / 'nope.json'} does not exist"


def outputs_file_malformed(tmp, mp):
    path = _write(tmp / "out.json", '{\n  "dynamodb_table_name": "t",\n  "embedding_chromadb_bucket_name" "b"\n}\n')
    return ["--outputs-file", str(path)], "is not valid JSON (line 3"


def outputs_file_is_a_list(tmp, mp):
    path = _write(tmp / "out.json", json.dumps([{"dynamodb_table_name": TABLE}]))
    return ["--outputs-file", str(path)], "does not hold a JSON object of outputs"


def outputs_file_without_table(tmp, mp):
    path = _write(tmp / "out.json", json.dumps({"embedding_chromadb_bucket_name": BUCKET}))
    return ["--outputs-file", str(path)], f"no table name: outputs file {path} has none of dynamodb_table_name"


def config_file_bad_toml(tmp, mp):
    _write(tmp / "chroma-cleanup.toml", "bucket = \n")
    return NAMES, f"config file {tmp.resolve() / 'chroma-cleanup.toml'} is not valid TOML"


def user_config_file_bad_toml(tmp, mp):
    _write(tmp / "xdg-config/chroma-cleanup/config.toml", "[envs.dev\n")
    return NAMES, "config.toml is not valid TOML"


def named_config_file_missing(tmp, mp):
    mp.setenv("CHROMA_CLEANUP_CONFIG", str(tmp / "nope.toml"))
    return NAMES, f"config file {tmp / 'nope.toml'} does not exist"


def unknown_top_level_key(tmp, mp):
    _write(tmp / "chroma-cleanup.toml", 'bukcet = "typo"\n')
    return NAMES, "unknown setting 'bukcet'"


def unknown_key_in_env_section(tmp, mp):
    _write(tmp / "chroma-cleanup.toml", '[envs.staging]\ntabel = "typo"\n')
    return NAMES, "unknown [envs.staging] setting 'tabel'"


def unknown_layout_key(tmp, mp):
    _write(tmp / "chroma-cleanup.toml", '[layout]\nsnapshot_prefx = "x/"\n')
    return NAMES, "unknown [layout] setting 'snapshot_prefx'"


def unknown_outputs_key(tmp, mp):
    _write(tmp / "chroma-cleanup.toml", '[outputs]\nbuckets = ["x"]\n')
    return NAMES, "unknown [outputs] setting 'buckets'"


def bucket_missing(tmp, mp):
    return ["--bucket", "no-such-bucket", "--table", TABLE], "bucket no-such-bucket does not exist"


def table_missing(tmp, mp):
    return ["--bucket", BUCKET, "--table", "NoSuchTable"], "table NoSuchTable does not exist"


def endpoint_unreachable(tmp, mp):
    url = f"http://127.0.0.1:{closed_port()}"
    return [*NAMES, "--endpoint-url", url], f"cannot reach the AWS endpoint {url}"


def no_credentials(tmp, mp):
    mp.delenv("AWS_ACCESS_KEY_ID")
    mp.delenv("AWS_SECRET_ACCESS_KEY")
    _write(tmp / "empty-credentials", "")
    mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp / "empty-credentials"))
    return NAMES, "no AWS credentials were found"


def profile_missing(tmp, mp):
    return [*NAMES, "--profile", "nope"], "The config profile (nope) could not be found"


def sandbox_not_running(tmp, mp):
    return ["--env", "sandbox"], "the sandbox is not running"


def sandbox_state_stale(tmp, mp):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    doc = {"endpoint_url": "http://127.0.0.1:1", "region": "us-east-1", "outputs": {}, "pid": int(dead.stdout)}
    _write(tmp / "xdg-state/chroma-cleanup/sandbox.json", json.dumps(doc))
    return ["--env", "sandbox"], "the sandbox is not running (its state file is stale)"


THREE_WAYS = ("--outputs-file", "PULUMI_BACKEND_URL")
CASES = {
    "no-names": Case(no_names, ("--bucket", "CHROMA_CLEANUP_BUCKET", *THREE_WAYS)),
    "unknown-env-no-pulumi": Case(unknown_env_without_pulumi, ("--bucket", *THREE_WAYS)),
    "outputs-file-missing": Case(outputs_file_missing, ("--outputs-file",)),
    "outputs-file-malformed": Case(outputs_file_malformed, ("pulumi stack output --json",)),
    "outputs-file-list": Case(outputs_file_is_a_list, ("pulumi stack output --json",)),
    "outputs-file-no-table": Case(outputs_file_without_table, ("--table", "CHROMA_CLEANUP_TABLE", *THREE_WAYS)),
    "config-bad-toml": Case(config_file_bad_toml),
    "user-config-bad-toml": Case(user_config_file_bad_toml),
    "config-named-missing": Case(named_config_file_missing, ("CHROMA_CLEANUP_CONFIG",)),
    "config-unknown-key": Case(unknown_top_level_key),
    "config-unknown-env-key": Case(unknown_key_in_env_section),
    "config-unknown-layout-key": Case(unknown_layout_key),
    "config-unknown-outputs-key": Case(unknown_outputs_key),
    "bucket-missing": Case(bucket_missing, ("--bucket",)),
    "table-missing": Case(table_missing, ("--table",)),
    "endpoint-unreachable": Case(endpoint_unreachable, ("--endpoint-url",)),
    "no-credentials": Case(no_credentials, ("AWS_PROFILE",)),
    "profile-missing": Case(profile_missing, ("--profile",)),
    "sandbox-not-running": Case(sandbox_not_running, ("chroma-cleanup sandbox",)),
    "sandbox-stale": Case(sandbox_state_stale, ("chroma-cleanup sandbox",)),
}

CASE_PARAMS = list(CASES)


def assert_one_error(stdout: str, stderr: str, exit_code: int, message: str, hint_has=(), as_json=False) -> str:
    """Exit 2, `error: ...` then `hint: ...` on stderr and nothing else; returns the error line."""
    assert "Traceback" not in stdout + stderr
    assert exit_code == EXIT_USAGE, stderr
    lines = stderr.splitlines()
    assert len(lines) == 2, stderr
    assert lines[0].startswith("error: ") and lines[1].startswith("hint: ") and len(lines[1]) > len("hint: ")
    assert message in lines[0]
    for part in hint_has:
        assert part in lines[1]
    if as_json:
        doc = json.loads(stdout)
        assert doc["status"] == "error"
        assert doc["error"]["message"] == lines[0].removeprefix("error: ")
        assert doc["exit_code"] == EXIT_USAGE
    else:
        assert stdout == ""
    return lines[0]


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
@pytest.mark.parametrize("name", CASE_PARAMS)
def test_bad_input_is_one_error_line_and_changes_nothing(name, as_json, world, cli, tmp_path, monkeypatch):
    case = CASES[name]
    args, message = case.setup(tmp_path, monkeypatch)
    before = world.state()

    began = time.monotonic()
    result = cli("all", "--yes", *args, *(["--json"] if as_json else []))
    took = time.monotonic() - began

    assert_one_error(result.stdout, result.stderr, result.exit_code, message, case.hint_has, as_json)
    assert world.state() == before
    assert took < 5, f"took {took:.1f}s to report it"


@pytest.mark.parametrize("name", ["endpoint-unreachable", "no-credentials", "profile-missing"])
@pytest.mark.parametrize(
    "command",
    [
        ["snapshots"],
        ["embeddings"],
        ["batches"],
        ["executions", "--state-machine", "arn:aws:states:us-east-1:123456789012:stateMachine:word-ingest-sf-dev-abc"],
        ["all", "--stop-executions", "--state-machine", "arn:aws:states:us-east-1:123456789012:stateMachine:x"],
        ["all", "--dry-run"],
    ],
    ids=lambda c: "-".join(a for a in c if not a.startswith("arn:")),
)
def test_aws_setup_errors_in_every_command(command, name, world, cli, tmp_path, monkeypatch):
    args, message = CASES[name].setup(tmp_path, monkeypatch)
    before = world.state()

    result = cli(*command, "--yes", "--json", *args)

    assert_one_error(result.stdout, result.stderr, result.exit_code, message.split(" http")[0], as_json=True)
    assert world.state() == before


def test_missing_name_error_says_the_three_ways_to_give_it(world, cli, tmp_path, monkeypatch):
    _no_pulumi(tmp_path, monkeypatch)
    result = cli("embeddings", "--env", "dev", "--yes")

    line = assert_one_error(result.stdout, result.stderr, result.exit_code, "no table name")
    hint = result.stderr.splitlines()[1]
    assert "tnorlund/portfolio/dev" in line
    assert "--table" in hint and "CHROMA_CLEANUP_TABLE" in hint  # 1: directly
    assert "--outputs-file" in hint  # 2: the outputs JSON
    assert "PULUMI_BACKEND_URL" in hint and "pulumi CLI" in hint  # 3: Pulumi itself


# --- the real entry point, in a process of its own ------------------------------------------------------------------


def clean_env(tmp_path: Path, endpoint: str | None) -> dict[str, str]:
    env = {
        "PATH": f"{ENTRY_POINT.parent}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


@pytest.mark.parametrize(
    ("name", "as_json"),
    [("no-names", False), ("outputs-file-malformed", True), ("endpoint-unreachable", False), ("table-missing", True)],
)
def test_real_entry_point_prints_no_traceback(name, as_json, world, tmp_path, monkeypatch):
    args, message = CASES[name].setup(tmp_path, monkeypatch)
    before = world.state()
    command = [str(ENTRY_POINT), "all", "--yes", *args, *(["--json"] if as_json else [])]

    done = subprocess.run(
        command, cwd=tmp_path, env=clean_env(tmp_path, world.aws.endpoint), capture_output=True, text=True, timeout=60
    )

    assert_one_error(done.stdout, done.stderr, done.returncode, message, CASES[name].hint_has, as_json)
    assert world.state() == before


def test_python_dash_m_entry_point(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "chroma_cleanup", "snapshots", "--env", "sandbox", "--yes"],
        cwd=tmp_path,
        env=clean_env(tmp_path, None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_error(done.stdout, done.stderr, done.returncode, "the sandbox is not running")
