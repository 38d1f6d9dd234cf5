"""Bugs a review found by trying to break the tool; each test failed before its fix."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from builders import all_items, all_versions, current_keys, make_bucket, make_table, put_items, put_keys, word
from fault_proxy import Rule, is_target
from snapshot_damage import segment_dir, truncate

from chroma_cleanup.errors import EXIT_USAGE

BUCKET = "chromadb-test-vectors"
TABLE = "ReceiptsTable-test"
NAMES = ["--bucket", BUCKET, "--table", TABLE]


@pytest.fixture
def world(aws):
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    make_bucket(s3, BUCKET)
    put_keys(s3, BUCKET, ["words/snapshot/latest-pointer.txt", "delta/x"])
    make_table(ddb, TABLE)
    put_items(ddb, TABLE, [word("img", 1, 1, 1, "SUCCESS")])
    return s3, ddb


def state(world) -> tuple:
    s3, ddb = world
    return all_versions(s3, BUCKET), all_items(ddb, TABLE)


def assert_usage_error(result, *needles: str) -> None:
    assert result.exit_code == EXIT_USAGE, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


# --- botocore's own validation errors escaped as tracebacks (exit 1) --------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--bucket", "a/b", "--table", TABLE], "a/b"),
        (["--region", "us_east"], "us_east"),
        (["--endpoint-url", "notaurl"], "notaurl"),
    ],
    ids=["invalid-bucket-name", "invalid-region", "invalid-endpoint"],
)
def test_invalid_aws_names_are_one_error_line(world, cli, args, needle):
    before = state(world)
    result = cli("snapshots", *NAMES, *args, "--yes")
    assert_usage_error(result, needle)
    assert state(world) == before


# --- outputs and config values that are not strings crashed deep in botocore -------------------------------------


@pytest.mark.parametrize(
    "outputs",
    [
        {"dynamodb_table_name": 123, "embedding_chromadb_bucket_name": BUCKET},
        {"dynamodb_table_name": TABLE, "embedding_chromadb_bucket_name": {"a": 1}},
        {"dynamodb_table_name": ["x"], "embedding_chromadb_bucket_name": BUCKET},
    ],
    ids=["int-table", "dict-bucket", "list-table"],
)
def test_outputs_value_of_the_wrong_type_is_a_usage_error(world, cli, tmp_path, outputs):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    before = state(world)
    result = cli("all", "--outputs-file", str(path), "--yes")
    assert_usage_error(result, "not a string")
    assert state(world) == before


def test_state_machine_output_of_the_wrong_type_is_a_usage_error(world, cli, tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"embedding_word_ingest_sf_arn": ["a", "b"]}))
    result = cli("executions", "--outputs-file", str(path), "--yes")
    assert_usage_error(result, "embedding_word_ingest_sf_arn")


@pytest.mark.parametrize(
    "text",
    ["bucket = 5", "region = 5", 'table = ["a"]', "state_machines = [1, 2]"],
)
def test_config_file_value_of_the_wrong_type_is_a_usage_error(world, cli, tmp_path, text):
    (tmp_path / "chroma-cleanup.toml").write_text(text + "\n")
    before = state(world)
    result = cli("all", "--env", "dev", "--yes")
    assert_usage_error(result, "chroma-cleanup.toml")
    assert state(world) == before


@pytest.mark.parametrize(
    "text",
    [
        '[layout]\nsnapshot_prefix = "{coll}/snapshot/"',
        '[layout]\npointer_key = "{x}"',
        '[layout]\nembedding_status_key = "X#{}"',
        '[layout]\nstate_machine_patterns = ["word-{stage}-"]',
        'stack_template = "{env}/{x}"',
        "[layout]\ncollections = []",
    ],
    ids=["prefix-field", "pointer-field", "positional", "pattern-field", "stack-field", "no-collections"],
)
@pytest.mark.parametrize("command", ["all", "verify"])
def test_bad_layout_template_is_a_usage_error(world, cli, tmp_path, text, command):
    (tmp_path / "chroma-cleanup.toml").write_text(text + "\n")
    extra = ["--stop-executions", "--yes"] if command == "all" else []
    result = cli(command, "--env", "dev", *NAMES, *extra)
    assert_usage_error(result)


# --- Ctrl-C in the middle of a run said only "interrupted" ------------------------------------------------------


def test_ctrl_c_mid_run_reports_what_was_changed(aws, proxy, tmp_path):
    ddb = aws.client("dynamodb")
    make_table(ddb, TABLE)
    put_items(ddb, TABLE, [word("img", 1, 1, n, "SUCCESS") for n in range(1, 301)])

    def slow(req, forward):
        time.sleep(0.03)
        return forward(req)

    proxy.rules.append(Rule(is_target("UpdateItem"), slow))
    env = {**os.environ, "AWS_ENDPOINT_URL": proxy.url}
    command = [sys.executable, "-m", "chroma_cleanup", "embeddings", "--table", TABLE, "--yes", "--json"]
    run = subprocess.Popen(
        [*command, "--workers", "1"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while proxy.seen.count("DynamoDB_20120810.UpdateItem") < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=60)

    changed = sum(1 for item in all_items(ddb, TABLE) if item["embedding_status"] == "NONE")
    assert 0 < changed < 300
    assert run.returncode == 130, stderr
    doc = json.loads(stdout)  # exactly one document, with what was done before the interrupt
    (step,) = doc["steps"]
    assert step["changed"] == changed
    assert doc["status"] == "partial"
    assert any(e["code"] == "Interrupted" for e in step["errors"])
    assert "interrupted" in stderr.lower()


# --- verify -----------------------------------------------------------------------------------------------------

chromadb = pytest.importorskip("chromadb")

from chroma_cleanup.snapshot_builder import build_snapshot, random_embeddings, word_records  # noqa: E402
from chroma_cleanup.verify import check_local_snapshot  # noqa: E402

WORDS = 1_200


@pytest.fixture(scope="module")
def healthy(tmp_path_factory) -> Path:
    ids, metadatas = word_records(WORDS)
    folder = tmp_path_factory.mktemp("review-healthy") / "words"
    build_snapshot(folder, "words", ids, random_embeddings(WORDS, 16), metadatas)
    return folder


def test_index_files_without_a_max_seq_id_row_are_still_checked(healthy, tmp_path):
    """chromadb loads the HNSW files when they are there, max_seq_id row or not: verify must check them."""
    snapshot = Path(shutil.copytree(healthy, tmp_path / "snapshot"))
    segment = segment_dir(snapshot)
    connection = sqlite3.connect(snapshot / "chroma.sqlite3")
    connection.execute("DELETE FROM max_seq_id WHERE segment_id = ?", (segment.name,))
    connection.commit()
    connection.close()
    truncate(segment / "link_lists.bin")

    report = check_local_snapshot(snapshot, "words", chroma_probe=False)

    assert {c.name: c.status for c in report.checks}["hnsw"] == "fail", report.checks
    assert report.failed


def _env_with_words(aws, ids) -> list[str]:
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    make_bucket(s3, BUCKET)
    make_table(ddb, TABLE)
    items = []
    for word_id in ids:
        image, rest = word_id.removeprefix("IMAGE#").split("#", 1)
        parts = rest.split("#")
        items.append(word(image, int(parts[1]), int(parts[3]), int(parts[5]), "SUCCESS"))
    put_items(ddb, TABLE, items)
    return [*NAMES, "--collection", "words", "--json"]


def _publish(s3, folder: Path, version: str) -> None:
    prefix = f"words/snapshot/timestamped/{version}/"
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        s3.upload_file(str(path), BUCKET, prefix + path.relative_to(folder).as_posix())
    s3.put_object(Bucket=BUCKET, Key="words/snapshot/latest-pointer.txt", Body=version.encode())


def test_keep_folder_with_an_earlier_download_does_not_hide_a_missing_file(aws, cli, healthy, tmp_path):
    """A second verify into the same --keep folder mixed the old download's files into the new snapshot."""
    ids, _ = word_records(WORDS)
    args = _env_with_words(aws, ids)
    s3 = aws.client("s3")
    _publish(s3, healthy, "20251115_171818")
    keep = tmp_path / "kept"
    assert cli("verify", *args, "--keep", str(keep)).exit_code == 0

    broken = Path(shutil.copytree(healthy, tmp_path / "broken"))
    (segment_dir(broken) / "index_metadata.pickle").unlink()  # the newer snapshot lost its id map
    _publish(s3, broken, "20251116_090000")

    result = cli("verify", *args, "--keep", str(keep))

    assert result.exit_code != 0, result.stdout
    assert "Traceback" not in result.stderr


def test_keep_that_is_a_file_is_a_usage_error(aws, cli, healthy, tmp_path):
    ids, _ = word_records(WORDS)
    args = _env_with_words(aws, ids)
    _publish(aws.client("s3"), healthy, "20251115_171818")
    keep = tmp_path / "a-file"
    keep.write_text("x")
    result = cli("verify", *[a for a in args if a != "--json"], "--keep", str(keep))
    assert_usage_error(result, "a-file")


def test_execution_started_while_stopping_is_stopped_too(aws, proxy, cli):
    """The spec: stop each, then list again until none is RUNNING. One started mid-run was only warned about."""
    from builders import execution_statuses, make_state_machine, start

    sfn = aws.client("stepfunctions")
    machine = make_state_machine(sfn, "word-ingest-sf-dev-abc")
    start(sfn, machine, ["manual-run-1-word"])

    def start_another(req, forward):
        start(sfn, machine, ["manual-run-2-word"])  # the pipeline kicks off a new run mid-cleanup
        return forward(req)

    proxy.rules.append(Rule(is_target("StopExecution"), start_another, times=1))
    result = cli(
        "executions", "--state-machine", machine, "--endpoint-url", proxy.url, "--wait", "5", "--yes", "--json"
    )

    assert set(execution_statuses(sfn, [machine]).values()) == {"ABORTED"}, result.stdout
    assert result.exit_code == 0
    assert result.json()["steps"][0]["changed"] == 2


def test_symlink_to_a_device_does_not_make_the_probe_copy_forever(healthy, tmp_path):
    """--local on a folder holding a symlink to /dev/zero: the probe's copy followed it and wrote ~200 MB/s
    until the disk was full. Run in a child with a 50 MB file-size limit so a regression cannot fill the disk."""
    snapshot = Path(shutil.copytree(healthy, tmp_path / "snapshot"))
    (segment_dir(snapshot) / "extra").symlink_to("/dev/zero")
    script = (
        "import json, resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (50 << 20, 50 << 20))\n"
        "from chroma_cleanup.verify import check_local_snapshot\n"
        "report = check_local_snapshot(sys.argv[1], 'words', chroma_timeout=60)\n"
        "print(json.dumps({c.name: c.status for c in report.checks}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(snapshot)],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert json.loads(done.stdout.splitlines()[-1])["chroma"] == "pass"


@pytest.mark.parametrize("prefix", ["{collection}/", "{collection}", "snapshot/", "{collection}/d"])
def test_a_snapshot_prefix_that_would_cover_deltas_or_placeholders_is_refused(aws, cli, tmp_path, prefix):
    s3 = aws.client("s3")
    bucket = make_bucket(s3)
    keys = ["words/delta/run-1/delta.tar.gz", "snapshot/.placeholder", "words/snapshot/latest-pointer.txt"]
    put_keys(s3, bucket, keys)
    (tmp_path / "chroma-cleanup.toml").write_text(f'[layout]\nsnapshot_prefix = "{prefix}"\n')

    result = cli("snapshots", "--bucket", bucket, "--table", "t", "--yes", "--force")

    assert result.exit_code == 2, result.stdout + result.stderr
    assert "snapshot_prefix" in result.stderr and "Traceback" not in result.stderr
    assert current_keys(s3, bucket) == set(keys)


def test_verify_reads_a_pointer_with_a_byte_order_mark_and_skips_folder_markers(aws, tmp_path):
    from chroma_cleanup.aws.clients import AwsSession
    from chroma_cleanup.aws.s3 import Bucket
    from chroma_cleanup.layout import Layout
    from chroma_cleanup.operations.model import NoProgress
    from chroma_cleanup.verify.download import download
    from chroma_cleanup.verify.locate import locate

    s3 = aws.client("s3")
    bucket = make_bucket(s3)
    put_keys(
        s3,
        bucket,
        ["words/snapshot/timestamped/20250101_000000/", "words/snapshot/timestamped/20250101_000000/a"],
        body=b"",
    )
    s3.put_object(Bucket=bucket, Key="words/snapshot/latest-pointer.txt", Body="\ufeff20250101_000000\n".encode())
    target = Bucket(AwsSession(region="us-east-1", endpoint_url=aws.endpoint), bucket)

    found = locate(target, Layout(), "words")
    assert (found.check.status, found.version) == ("pass", "20250101_000000")
    check = download(target, found.prefix, found.objects, tmp_path / "download", NoProgress())
    assert check.status == "pass", check.detail
