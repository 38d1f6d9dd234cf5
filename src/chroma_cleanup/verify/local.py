"""check_local_snapshot: every local check of one downloaded snapshot folder, in order."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from chroma_cleanup.verify.chroma import check_chroma
from chroma_cleanup.verify.database import Database, read_database
from chroma_cleanup.verify.files import check_files
from chroma_cleanup.verify.hnsw import check_hnsw
from chroma_cleanup.verify.ids import check_ids
from chroma_cleanup.verify.result import Check, LocalReport
from chroma_cleanup.verify.snapshot_files import DATABASE

NO_COLLECTION = "no trustworthy collection in SQLite (see sqlite)"


def check_local_snapshot(
    folder: Path,
    collection: str,
    *,
    chroma_timeout: float = 60,
    sample: int = 5,
    chroma_probe: bool = True,
) -> LocalReport:
    """Run the files, sqlite, hnsw, ids and chroma checks; never raises on bad files.

    `chroma_probe=False` skips opening the snapshot with chromadb, which costs seconds.
    """
    folder = Path(folder)
    database = _read_database(folder, collection)
    segments = database.vector_segments if database else None
    report = LocalReport()
    report.checks.append(_guarded("files", partial(check_files, folder, segments)))
    report.checks.append(_sqlite_check(database))
    report.checks.append(_guarded("hnsw", partial(check_hnsw, folder, segments)))
    found = database.collection if database else None
    if found is None:
        report.checks += [Check("ids", "skip", NO_COLLECTION), Check("chroma", "skip", NO_COLLECTION)]
        return report
    report.embeddings, report.ids = len(found.ids), set(found.ids)
    report.checks.append(_guarded("ids", partial(check_ids, folder, found)))
    if chroma_probe:
        probe = partial(check_chroma, folder, collection, found.ids, timeout=chroma_timeout, sample=sample)
        report.checks.append(_guarded("chroma", probe))
    else:
        report.checks.append(Check("chroma", "skip", "chroma probe turned off"))
    return report


def _read_database(folder: Path, collection: str) -> Database | None:
    """None when there is no non-empty database file to read (the files check says so)."""
    path = folder / DATABASE
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None
        return read_database(path, collection)
    except Exception as error:  # verify reports bad files, it never raises on them
        return Database(problems=[f"{type(error).__name__}: {error}"])


def _sqlite_check(database: Database | None) -> Check:
    if database is None:
        return Check("sqlite", "skip", f"no {DATABASE} to open (see files)")
    if database.problems or database.collection is None:
        return Check("sqlite", "fail", "; ".join(database.problems))
    found = database.collection
    return Check("sqlite", "pass", f"integrity ok; collection {found.name!r} holds {len(found.ids):,} records")


def _guarded(name: str, run: Callable[[], Check]) -> Check:
    try:
        return run()
    except Exception as error:  # verify reports bad files, it never raises on them
        return Check(name, "fail", f"{type(error).__name__}: {error}")
