"""check_local_snapshot on a real chromadb snapshot, healthy and damaged each way users saw it."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest
from snapshot_damage import (
    DATABASE,
    empty_database,
    leave_journal,
    overwrite_middle_page,
    plant_malicious_id_map,
    segment_dir,
    truncate,
    zero_database_header,
)

from chroma_cleanup.snapshot_builder import build_snapshot, random_embeddings, word_records
from chroma_cleanup.verify import check_local_snapshot
from chroma_cleanup.verify import chroma as chroma_check

pytest.importorskip("chromadb")

WORDS = 1_200
DIMENSION = 16
SYNC_THRESHOLD = 1_000  # chromadb's default hnsw:sync_threshold: records written to the HNSW files
CHECK_NAMES = ["files", "sqlite", "hnsw", "ids", "chroma"]


@pytest.fixture(scope="session")
def inserted() -> tuple[list[str], list[dict]]:
    return word_records(WORDS)


@pytest.fixture(scope="session")
def healthy(tmp_path_factory: pytest.TempPathFactory, inserted) -> Path:
    ids, metadatas = inserted
    folder = tmp_path_factory.mktemp("healthy") / "words"
    build_snapshot(folder, "words", ids, random_embeddings(WORDS, DIMENSION), metadatas)
    (folder / ".snapshot_hash").write_text("md5:0123456789abcdef0123456789abcdef")
    return folder


@pytest.fixture
def snapshot(healthy: Path, tmp_path: Path) -> Path:
    """A fresh copy of the healthy snapshot, free to damage."""
    return Path(shutil.copytree(healthy, tmp_path / "snapshot"))


def statuses(report) -> dict[str, str]:
    return {check.name: check.status for check in report.checks}


def first_failure(report) -> str | None:
    return next((check.name for check in report.checks if check.status == "fail"), None)


def detail(report, name: str) -> str:
    return next(check.detail for check in report.checks if check.name == name)


def test_healthy_snapshot_passes_every_check(snapshot: Path, inserted) -> None:
    ids, _ = inserted
    report = check_local_snapshot(snapshot, "words")
    assert [check.name for check in report.checks] == CHECK_NAMES
    assert statuses(report) == dict.fromkeys(CHECK_NAMES, "pass"), report.checks
    assert report.embeddings == WORDS
    assert report.ids == set(ids)
    in_log = WORDS - SYNC_THRESHOLD
    assert f"{WORDS:,} ids: {SYNC_THRESHOLD:,} in index + {in_log:,} in log" in detail(report, "ids")
    assert f"{SYNC_THRESHOLD:,} elements" in detail(report, "hnsw")
    assert not report.failed


def test_verify_leaves_the_snapshot_untouched(snapshot: Path) -> None:
    before = {path: path.read_bytes() for path in snapshot.rglob("*") if path.is_file()}
    check_local_snapshot(snapshot, "words")
    assert {path: path.read_bytes() for path in snapshot.rglob("*") if path.is_file()} == before


DAMAGE = [
    ("truncated sqlite", lambda f: truncate(f / DATABASE), "sqlite"),
    ("zeroed sqlite header", zero_database_header, "sqlite"),
    ("overwritten sqlite page", overwrite_middle_page, "sqlite"),
    ("empty sqlite", empty_database, "files"),
    ("missing sqlite", lambda f: os.remove(f / DATABASE), "files"),
    ("leftover journal", leave_journal, "files"),
    ("deleted header.bin", lambda f: os.remove(segment_dir(f) / "header.bin"), "files"),
    ("truncated header.bin", lambda f: truncate(segment_dir(f) / "header.bin"), "hnsw"),
    ("deleted data_level0.bin", lambda f: os.remove(segment_dir(f) / "data_level0.bin"), "files"),
    ("truncated data_level0.bin", lambda f: truncate(segment_dir(f) / "data_level0.bin"), "hnsw"),
    ("deleted link_lists.bin", lambda f: os.remove(segment_dir(f) / "link_lists.bin"), "files"),
    ("truncated link_lists.bin", lambda f: truncate(segment_dir(f) / "link_lists.bin"), "hnsw"),
    ("truncated length.bin", lambda f: truncate(segment_dir(f) / "length.bin"), "hnsw"),
    ("deleted index_metadata.pickle", lambda f: os.remove(segment_dir(f) / "index_metadata.pickle"), "files"),
    ("deleted segment folder", lambda f: shutil.rmtree(segment_dir(f)), "files"),
]


@pytest.mark.parametrize(("damage", "failing"), [pytest.param(d, f, id=i) for i, d, f in DAMAGE])
def test_damage_fails_on_the_right_check(snapshot: Path, damage, failing: str) -> None:
    damage(snapshot)
    report = check_local_snapshot(snapshot, "words", chroma_probe=False)
    assert [check.name for check in report.checks] == CHECK_NAMES
    assert first_failure(report) == failing, report.checks
    assert report.failed


@pytest.mark.parametrize("damage", [zero_database_header, overwrite_middle_page, lambda f: truncate(f / DATABASE)])
def test_damaged_sqlite_gives_no_ids(snapshot: Path, damage) -> None:
    damage(snapshot)
    report = check_local_snapshot(snapshot, "words", chroma_probe=False)
    assert (report.embeddings, report.ids) == (None, None)
    assert statuses(report)["ids"] == statuses(report)["chroma"] == "skip"


def test_deleted_id_map_fails_ids_too(snapshot: Path) -> None:
    os.remove(segment_dir(snapshot) / "index_metadata.pickle")
    report = check_local_snapshot(snapshot, "words", chroma_probe=False)
    assert statuses(report)["ids"] == "fail"
    assert "index_metadata.pickle is missing" in detail(report, "ids")


def test_malicious_pickle_is_refused_without_running(snapshot: Path, tmp_path: Path) -> None:
    sentinel = tmp_path / "pickle-ran"
    plant_malicious_id_map(snapshot, sentinel)
    report = check_local_snapshot(snapshot, "words", chroma_probe=False)
    assert first_failure(report) == "ids"
    assert "refused" in detail(report, "ids")
    assert not sentinel.exists()


def test_stale_id_map_fails_ids(snapshot: Path, inserted) -> None:
    """An index_metadata.pickle from another write than the index files: one id short."""
    path = segment_dir(snapshot) / "index_metadata.pickle"
    data = pickle.loads(path.read_bytes())  # our own file, built above
    dropped = inserted[0][0]  # the first id added is in the index, not the log
    del data["label_to_id"][data["id_to_label"].pop(dropped)]
    path.write_bytes(pickle.dumps(data))
    report = check_local_snapshot(snapshot, "words", chroma_probe=False)
    assert first_failure(report) == "ids"
    assert "1 missing from index + log" in detail(report, "ids")
    assert dropped in detail(report, "ids")
    assert "data_level0.bin holds" in detail(report, "ids")


def test_wrong_collection_name_fails_sqlite(snapshot: Path) -> None:
    report = check_local_snapshot(snapshot, "lines", chroma_probe=False)
    assert first_failure(report) == "sqlite"
    assert "no collection named 'lines' (found: words)" in detail(report, "sqlite")


def test_missing_folder_fails_files_without_raising(tmp_path: Path) -> None:
    report = check_local_snapshot(tmp_path / "nowhere", "words")
    assert statuses(report) == {"files": "fail", "sqlite": "skip", "hnsw": "skip", "ids": "skip", "chroma": "skip"}


def test_stray_folder_is_a_warning(snapshot: Path) -> None:
    (snapshot / "not-a-segment").mkdir()
    report = check_local_snapshot(snapshot, "words", chroma_probe=False)
    assert statuses(report)["files"] == "warn"
    assert "not-a-segment" in detail(report, "files")
    assert not report.failed


def test_deletes_waiting_in_the_log_are_replayed(snapshot: Path, inserted) -> None:
    import chromadb
    from chromadb.config import Settings

    ids, _ = inserted
    deleted = ids[:10] + ids[-10:]  # ten in the HNSW files, ten still in the log
    client = chromadb.PersistentClient(path=str(snapshot), settings=Settings(anonymized_telemetry=False))
    client.get_collection("words", embedding_function=None).delete(ids=deleted)
    client.close()
    report = check_local_snapshot(snapshot, "words", chroma_probe=False)
    assert statuses(report)["ids"] == "pass", report.checks
    assert report.ids == set(ids) - set(deleted)
    kept, added = SYNC_THRESHOLD - 10, WORDS - SYNC_THRESHOLD - 10
    assert f"{WORDS - 20:,} ids: {kept:,} in index + {added:,} in log (10 deleted in the log)" in detail(report, "ids")


def test_small_collection_lives_in_the_log(tmp_path: Path) -> None:
    """Below the sync threshold chromadb writes no id map and an empty index; that is healthy."""
    ids, metadatas = word_records(50, seed=1)
    build_snapshot(tmp_path / "small", "words", ids, random_embeddings(50, DIMENSION, seed=1), metadatas)
    report = check_local_snapshot(tmp_path / "small", "words", chroma_probe=False)
    assert statuses(report) == {"files": "pass", "sqlite": "pass", "hnsw": "skip", "ids": "pass", "chroma": "skip"}
    assert "50 ids: 0 in index + 50 in log" in detail(report, "ids")
    assert report.ids == set(ids)


# The chroma probe opens the snapshot in a subprocess: seconds each, so only where it matters.


def test_chroma_probe_survives_a_crash(snapshot: Path) -> None:
    """chromadb 1.5.9 segfaults opening a segment whose header.bin is cut short."""
    truncate(segment_dir(snapshot) / "header.bin")
    report = check_local_snapshot(snapshot, "words")
    assert statuses(report)["chroma"] == "fail"
    assert "crashed" in detail(report, "chroma")


def test_cut_link_lists_fail_the_hnsw_check(snapshot: Path) -> None:
    """chromadb usually searches a cut link_lists.bin without complaint (it reads past the end into whatever
    memory follows, so what it answers is not reliable either way): the hnsw check must catch it on its own."""
    truncate(segment_dir(snapshot) / "link_lists.bin")
    report = check_local_snapshot(snapshot, "words", chroma_probe=False)
    assert first_failure(report) == "hnsw"
    assert "link_lists.bin" in detail(report, "hnsw")


def test_chroma_probe_timeout_is_a_failure(snapshot: Path) -> None:
    report = check_local_snapshot(snapshot, "words", chroma_timeout=0.01)
    assert statuses(report)["chroma"] == "fail"
    assert "within 0.01 s" in detail(report, "chroma")


def test_chroma_probe_skips_without_chromadb(snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chroma_check, "chroma_installed", lambda: False)
    report = check_local_snapshot(snapshot, "words")
    assert statuses(report)["chroma"] == "skip"
    assert detail(report, "chroma") == "install the chroma extra: pip install 'chroma-cleanup[chroma]'"


def test_verify_local_command_checks_a_folder_without_aws(snapshot: Path, cli) -> None:
    result = cli("verify", "--local", str(snapshot), "--collection", "words", "--json")

    assert result.exit_code == 0, result.stdout + result.stderr
    (collection,) = result.json()["collections"]
    by_name = {c["name"]: c["status"] for c in collection["checks"]}
    assert list(by_name) == ["locate", "download", *CHECK_NAMES[:4], "counts", "recent_receipts", "chroma"]
    assert by_name["locate"] == by_name["download"] == by_name["counts"] == by_name["recent_receipts"] == "skip"
    assert {by_name[name] for name in CHECK_NAMES} == {"pass"}
    assert collection["embeddings"] == WORDS


def test_verify_local_on_a_missing_folder_is_a_usage_error(tmp_path: Path, cli) -> None:
    result = cli("verify", "--local", str(tmp_path / "nowhere"), "--collection", "words")
    assert result.exit_code == 2
    assert "is not a folder" in result.stderr and "Traceback" not in result.stderr
