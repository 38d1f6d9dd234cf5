"""`snapshots`: only `{collection}/snapshot/` goes, in batches within AWS limits, every failure counted."""

from __future__ import annotations

import random

import pytest
from builders import all_versions, current_keys, lock, make_bucket, make_table, put_items, put_keys
from fault_proxy import FaultProxy, Rule, is_delete_objects, partial_delete

SNAPSHOT_KEYS = [
    "words/snapshot/timestamped/20251115_171818/chroma.sqlite3",
    "words/snapshot/timestamped/20251115_171818/8c1e/header.bin",
    "words/snapshot/latest-pointer.txt",
    "words/snapshot/latest/chroma.sqlite3",
    "lines/snapshot/timestamped/20251114_101010/chroma.sqlite3",
    "lines/snapshot/latest-pointer.txt",
]
KEEP_KEYS = [
    "words/delta/words/receipt_words/00001/delta.tar.gz",
    "lines/delta/run-1/delta.tar.gz",
    "delta/legacy/delta.tar.gz",
    "snapshot/.placeholder",
    "delta/.placeholder",
    "snapshot/latest/pointer.txt",
    "intermediate/a.json",
    "chunks/a.json",
    "chunk_groups/a.json",
    "poll_results/a.json",
    "poll_manifests/a.json",
    "words/snapshots/look-alike",
    "words/snapshot-old/look-alike",
    "wordsx/snapshot/look-alike",
    "words/snapshot",  # a key equal to the prefix without its slash
]


@pytest.fixture
def env(aws):
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    bucket = make_bucket(s3)
    table = make_table(ddb)
    return {
        "s3": s3,
        "ddb": ddb,
        "bucket": bucket,
        "table": table,
        "args": ["--bucket", bucket, "--table", table, "--yes"],
    }


def test_deletes_only_snapshot_prefixes_and_leaves_delete_markers(env, cli):
    put_keys(env["s3"], env["bucket"], SNAPSHOT_KEYS + KEEP_KEYS)
    before = all_versions(env["s3"], env["bucket"])

    result = cli("snapshots", *env["args"], "--json")

    assert result.exit_code == 0, result.stderr
    assert current_keys(env["s3"], env["bucket"]) == set(KEEP_KEYS)
    after = all_versions(env["s3"], env["bucket"])
    assert before <= after  # every version is still there: recoverable
    markers = {key for key, _, marker in after - before if marker}
    assert markers == set(SNAPSHOT_KEYS)
    doc = result.json()
    assert doc["status"] == "ok"
    assert [s["target"].split("/")[3] for s in doc["steps"]] == ["words", "lines"]
    assert [s["changed"] for s in doc["steps"]] == [4, 2]


def test_generated_look_alike_keys_only_collection_snapshot_keys_go(env, cli):
    rng = random.Random(11)
    parts = [
        "words",
        "lines",
        "wordsx",
        "word",
        "lines2",
        "snapshot",
        "snapshots",
        "snapshot-old",
        "delta",
        "timestamped",
        "latest",
        "Snapshot",
        "WORDS",
    ]
    keys = {"/".join(rng.choice(parts) for _ in range(rng.randint(1, 4))) + f"/{n}" for n in range(400)}
    put_keys(env["s3"], env["bucket"], sorted(keys))
    expected_gone = {k for k in keys if k.startswith(("words/snapshot/", "lines/snapshot/"))}
    assert expected_gone and expected_gone != keys

    result = cli("snapshots", *env["args"])

    assert result.exit_code == 0, result.stderr
    assert current_keys(env["s3"], env["bucket"]) == keys - expected_gone


def test_collection_option_limits_to_one_collection(env, cli):
    put_keys(env["s3"], env["bucket"], SNAPSHOT_KEYS)
    assert cli("snapshots", "--collection", "lines", *env["args"]).exit_code == 0
    assert current_keys(env["s3"], env["bucket"]) == {k for k in SNAPSHOT_KEYS if k.startswith("words/")}


def test_more_than_1000_objects_and_versions_purged_in_limited_batches(aws, env, cli):
    s3 = env["s3"]
    keys = [f"words/snapshot/timestamped/20250101_000000/f{n:05d}" for n in range(1100)]
    put_keys(s3, env["bucket"], keys)
    put_keys(s3, env["bucket"], keys[:150], body=b"second version")
    put_keys(s3, env["bucket"], ["words/delta/keep"])
    proxy = FaultProxy(aws.endpoint)
    sizes = []

    def record(req, forward):
        sizes.append(req.body.count(b"<Object>"))
        return forward(req)

    proxy.rules.append(Rule(is_delete_objects, record))
    endpoint = proxy.start()
    try:
        result = cli(
            "snapshots", "--collection", "words", "--purge-versions", "--endpoint-url", endpoint, *env["args"], "--json"
        )
    finally:
        proxy.stop()

    assert result.exit_code == 0, result.stderr
    assert result.json()["steps"][0]["changed"] == 1250  # 1,100 first versions + 150 second versions
    assert max(sizes) <= 1000 and sum(sizes) == 1250
    assert {v[0] for v in all_versions(s3, env["bucket"])} == {"words/delta/keep"}


def test_partial_delete_errors_are_counted_with_key_and_code(aws, env, cli):
    keys = [f"lines/snapshot/timestamped/20250101_000000/f{n:03d}" for n in range(30)]
    put_keys(env["s3"], env["bucket"], keys)
    failing = {k for k in keys if k.endswith(("3", "7"))}
    proxy = FaultProxy(aws.endpoint, [Rule(is_delete_objects, partial_delete(lambda k: k in failing))])
    endpoint = proxy.start()
    try:
        result = cli("snapshots", "--collection", "lines", "--endpoint-url", endpoint, *env["args"], "--json")
    finally:
        proxy.stop()

    assert result.exit_code == 1
    doc = result.json()
    step = doc["steps"][0]
    assert doc["status"] == "partial"
    assert (step["changed"], step["failed"]) == (len(keys) - len(failing), len(failing))
    assert {(e["id"], e["code"]) for e in step["errors"]} == {(k, "AccessDenied") for k in failing}
    assert current_keys(env["s3"], env["bucket"]) == failing


def test_unexpired_compaction_lock_refuses_unless_forced(env, cli):
    put_keys(env["s3"], env["bucket"], SNAPSHOT_KEYS)
    put_items(env["ddb"], env["table"], [lock("words", "2999-01-01T00:00:00+00:00")])
    before = all_versions(env["s3"], env["bucket"])

    refused = cli("snapshots", *env["args"])
    assert refused.exit_code == 1
    assert "compaction lock" in refused.stdout
    assert all_versions(env["s3"], env["bucket"]) == before  # nothing deleted, lines included

    forced = cli("snapshots", *env["args"], "--force")
    assert forced.exit_code == 0
    assert current_keys(env["s3"], env["bucket"]) == set()


def test_expired_lock_does_not_block(env, cli):
    put_keys(env["s3"], env["bucket"], SNAPSHOT_KEYS)
    put_items(env["ddb"], env["table"], [lock("words", "2000-01-01T00:00:00+00:00")])
    assert cli("snapshots", *env["args"]).exit_code == 0
    assert current_keys(env["s3"], env["bucket"]) == set()


def test_second_run_changes_nothing_and_counts_already_deleted(env, cli):
    put_keys(env["s3"], env["bucket"], SNAPSHOT_KEYS)
    assert cli("snapshots", *env["args"]).exit_code == 0
    versions = all_versions(env["s3"], env["bucket"])

    again = cli("snapshots", *env["args"], "--json")

    assert again.exit_code == 0
    assert all_versions(env["s3"], env["bucket"]) == versions
    steps = again.json()["steps"]
    assert [(s["planned"], s["changed"], s["unchanged"]) for s in steps] == [(0, 0, 4), (0, 0, 2)]


def test_a_lock_taken_after_the_plan_stops_the_delete(aws, env, cli, proxy):
    put_keys(env["s3"], env["bucket"], SNAPSHOT_KEYS)
    before = all_versions(env["s3"], env["bucket"])

    def lock_while_listing(req, forward):
        # The plan lists the snapshot objects after it checked the locks: a compaction starts right then.
        put_items(env["ddb"], env["table"], [lock("words", "2999-01-01T00:00:00+00:00")])
        return forward(req)

    proxy.rules.append(Rule(lambda req: "versions" in req.path, lock_while_listing, times=1))

    result = cli("snapshots", "--collection", "words", "--endpoint-url", proxy.url, *env["args"], "--json")

    assert result.exit_code == 1
    (step,) = result.json()["steps"]
    assert (step["changed"], step["failed"]) == (0, 1)
    assert step["errors"][0]["code"] == "CompactionLocked"
    assert all_versions(env["s3"], env["bucket"]) == before
