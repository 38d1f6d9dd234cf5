"""`verify` through S3 and DynamoDB on the local AWS: locate, download, counts and the newest receipts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from builders import all_items, all_versions, make_bucket, make_table, put_items, word
from snapshot_damage import segment_dir, truncate

from chroma_cleanup.snapshot_builder import build_snapshot, random_embeddings, word_records

pytest.importorskip("chromadb")

WORDS = 1_200  # 12 receipts of 100 words; more than 1,000 so some records wait in ChromaDB's log
VERSION = "20251115_171818"


def receipt_of(word_id: str) -> str:
    return word_id.split("#LINE#")[0]  # IMAGE#{image}#RECEIPT#{r}


@pytest.fixture(scope="module")
def records():
    ids, metadatas = word_records(WORDS)
    receipts = list(dict.fromkeys(receipt_of(i) for i in ids))  # in insertion order: the last is the newest
    return ids, metadatas, receipts


def _build(tmp_path_factory, name: str, ids, metadatas) -> Path:
    folder = tmp_path_factory.mktemp(name) / "words"
    build_snapshot(folder, "words", ids, random_embeddings(len(ids), 16), metadatas)
    return folder


@pytest.fixture(scope="module")
def healthy_folder(tmp_path_factory, records) -> Path:
    ids, metadatas, _ = records
    return _build(tmp_path_factory, "healthy", ids, metadatas)


@pytest.fixture(scope="module")
def without_newest_folder(tmp_path_factory, records) -> Path:
    ids, metadatas, receipts = records
    keep = [n for n, i in enumerate(ids) if receipt_of(i) != receipts[-1]]
    return _build(tmp_path_factory, "without-newest", [ids[n] for n in keep], [metadatas[n] for n in keep])


@pytest.fixture
def env(aws, records):
    """A bucket and a table whose SUCCESS words are exactly the snapshot's records."""
    ids, _, receipts = records
    s3, ddb = aws.client("s3"), aws.client("dynamodb")
    bucket, table = make_bucket(s3), make_table(ddb)
    items = []
    for n, receipt in enumerate(receipts):
        image, number = receipt.removeprefix("IMAGE#").split("#RECEIPT#")
        items.append(
            {
                "PK": f"IMAGE#{image}",
                "SK": f"RECEIPT#{number}",
                "TYPE": "RECEIPT",
                "timestamp_added": f"2025-11-{n + 1:02d}T10:00:00+00:00",
            }
        )
    for word_id in ids:
        image, rest = word_id.removeprefix("IMAGE#").split("#", 1)
        parts = rest.split("#")
        items.append(word(image, int(parts[1]), int(parts[3]), int(parts[5]), "SUCCESS"))
    put_items(ddb, table, items)
    return {
        "s3": s3,
        "ddb": ddb,
        "bucket": bucket,
        "table": table,
        "args": ["--bucket", bucket, "--table", table, "--collection", "words", "--json"],
    }


def upload(s3, bucket: str, folder: Path, prefix: str) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, prefix + path.relative_to(folder).as_posix())


def publish(env, folder: Path, version: str = VERSION) -> None:
    upload(env["s3"], env["bucket"], folder, f"words/snapshot/timestamped/{version}/")
    env["s3"].put_object(Bucket=env["bucket"], Key="words/snapshot/latest-pointer.txt", Body=version.encode())


def checks(doc) -> dict[str, str]:
    return {c["name"]: c["status"] for c in doc["collections"][0]["checks"]}


def test_healthy_snapshot_passes_every_check_and_changes_nothing(env, cli, healthy_folder, records):
    publish(env, healthy_folder)
    before = (all_versions(env["s3"], env["bucket"]), all_items(env["ddb"], env["table"]))

    result = cli("verify", *env["args"], "--limit", "5")

    assert result.exit_code == 0, result.stdout + result.stderr
    doc = result.json()
    assert doc["status"] == "ok"
    assert set(checks(doc).values()) == {"pass"}
    collection = doc["collections"][0]
    assert (collection["version"], collection["healthy"], collection["embeddings"]) == (VERSION, True, WORDS)
    assert collection["recent_receipts"] == {"checked": 5, "complete": 5, "missing": []}
    assert (all_versions(env["s3"], env["bucket"]), all_items(env["ddb"], env["table"])) == before


def test_pointer_to_missing_version_fails_on_locate(env, cli, healthy_folder):
    publish(env, healthy_folder)
    env["s3"].put_object(Bucket=env["bucket"], Key="words/snapshot/latest-pointer.txt", Body=b"20991231_000000")

    result = cli("verify", *env["args"])

    assert result.exit_code == 1
    found = checks(result.json())
    assert found["locate"] == "fail"
    assert {found[n] for n in found if n != "locate"} == {"skip"}
    assert "20991231_000000" in result.json()["collections"][0]["checks"][0]["detail"]


def test_no_snapshot_says_it_is_expected_after_a_cleanup(env, cli):
    result = cli("verify", *env["args"])
    assert result.exit_code == 1
    detail = result.json()["collections"][0]["checks"][0]["detail"]
    assert "expected right after a cleanup" in detail


def test_legacy_latest_folder_is_read_when_the_pointer_is_missing(env, cli, healthy_folder):
    upload(env["s3"], env["bucket"], healthy_folder, "words/snapshot/latest/")
    result = cli("verify", *env["args"])
    assert result.exit_code == 0, result.stdout
    assert checks(result.json())["locate"] == "warn"


def test_snapshot_without_the_newest_receipt_fails_recent_receipts(env, cli, without_newest_folder, records):
    _, _, receipts = records
    publish(env, without_newest_folder)

    result = cli("verify", *env["args"], "--limit", "3")

    assert result.exit_code == 1
    doc = result.json()
    assert checks(doc)["recent_receipts"] == "fail"
    recent = doc["collections"][0]["recent_receipts"]
    assert (recent["checked"], recent["complete"]) == (3, 2)
    assert recent["missing"] == [{"receipt": receipts[-1], "expected": 100, "found": 0}]


def test_fewer_embeddings_than_success_items_fails_counts(env, cli, healthy_folder, records):
    publish(env, healthy_folder)
    _, _, receipts = records
    oldest = receipts[0].removeprefix("IMAGE#").split("#RECEIPT#")[0]
    put_items(env["ddb"], env["table"], [word(oldest, 1, 99, n, "SUCCESS") for n in range(1, 8)])

    result = cli("verify", *env["args"], "--limit", "3")

    assert result.exit_code == 1
    found = checks(result.json())
    assert found["counts"] == "fail" and found["recent_receipts"] == "pass"
    detail = next(c["detail"] for c in result.json()["collections"][0]["checks"] if c["name"] == "counts")
    assert f"{WORDS:,} embeddings" in detail and f"{WORDS + 7:,}" in detail


def test_more_embeddings_than_success_items_is_a_warning(env, cli, healthy_folder, records):
    publish(env, healthy_folder)
    ids, _, _ = records
    image, rest = ids[0].removeprefix("IMAGE#").split("#", 1)
    parts = rest.split("#")
    put_items(env["ddb"], env["table"], [word(image, int(parts[1]), int(parts[3]), int(parts[5]), "PENDING")])

    result = cli("verify", *env["args"], "--limit", "1")

    assert checks(result.json())["counts"] == "warn"
    assert result.exit_code == 0


def test_process_survives_a_segment_that_crashes_chromadb(env, cli, healthy_folder, tmp_path):
    broken = Path(shutil.copytree(healthy_folder, tmp_path / "broken"))
    truncate(segment_dir(broken) / "header.bin")  # chromadb segfaults loading this
    publish(env, broken)

    result = cli("verify", *env["args"])

    assert result.exit_code == 1
    found = checks(result.json())
    assert found["hnsw"] == "fail" and found["chroma"] == "fail"


def test_keep_leaves_the_download_in_the_folder(env, cli, healthy_folder, tmp_path):
    publish(env, healthy_folder)
    keep = tmp_path / "kept"
    assert cli("verify", *env["args"], "--keep", str(keep)).exit_code == 0
    expected = sorted(p.relative_to(healthy_folder) for p in healthy_folder.rglob("*") if p.is_file())
    assert sorted(p.relative_to(keep / "words") for p in (keep / "words").rglob("*") if p.is_file()) == expected


def test_human_output_names_each_check(env, cli, healthy_folder):
    publish(env, healthy_folder)
    result = cli("verify", *[a for a in env["args"] if a != "--json"])
    assert result.exit_code == 0
    for name in ("locate", "download", "files", "sqlite", "hnsw", "ids", "counts", "recent_receipts", "chroma"):
        assert name in result.stdout
    assert "every snapshot is healthy" in result.stdout


def test_the_right_number_of_the_wrong_ids_fails_counts(env, cli, healthy_folder, records):
    publish(env, healthy_folder)
    ids, _, receipts = records
    image, rest = ids[0].removeprefix("IMAGE#").split("#", 1)
    parts = rest.split("#")
    oldest = receipts[0].removeprefix("IMAGE#").split("#RECEIPT#")[0]
    # One snapshot word is no longer SUCCESS and one SUCCESS word is not in the snapshot: same count.
    put_items(
        env["ddb"],
        env["table"],
        [word(image, int(parts[1]), int(parts[3]), int(parts[5]), "PENDING"), word(oldest, 1, 99, 1, "SUCCESS")],
    )

    result = cli("verify", *env["args"], "--limit", "0")

    assert result.exit_code == 1
    detail = next(c["detail"] for c in result.json()["collections"][0]["checks"] if c["name"] == "counts")
    assert f"{WORDS:,} embeddings in the snapshot, {WORDS:,} RECEIPT_WORD items" in detail
    assert "not the same ids" in detail and f"IMAGE#{oldest}#RECEIPT#00001#LINE#00099#WORD#00001" in detail
