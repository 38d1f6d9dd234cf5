"""The `files` check: is everything chromadb needs in the folder, and nothing half-written?"""

from __future__ import annotations

from pathlib import Path

from chroma_cleanup.verify.database import VectorSegment
from chroma_cleanup.verify.result import Check
from chroma_cleanup.verify.snapshot_files import DATABASE, LEFTOVER_SUFFIXES, SEGMENT_FILES


def check_files(folder: Path, segments: list[VectorSegment] | None) -> Check:
    """`segments` are SQLite's vector segments, or None when SQLite could not list them."""
    if not folder.is_dir():
        return Check("files", "fail", f"{folder} is not a folder")
    problems, warnings = _database_problems(folder), []
    if segments is None:
        if not problems:  # else the database's own problem explains it
            warnings.append("segment folders not matched: SQLite cannot list its segments (see sqlite)")
        segments = []
    else:
        problems += _segment_problems(folder, segments)
        owned = {segment.id for segment in segments}
        strays = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in owned)
        if strays:
            warnings.append(f"folders no segment owns: {', '.join(strays)}")
    if problems:
        return Check("files", "fail", "; ".join(problems + warnings))
    if warnings:
        return Check("files", "warn", "; ".join(warnings))
    unwritten = sum(not segment.on_disk(folder) for segment in segments)
    detail = f"{DATABASE} and {len(segments) - unwritten} segment folder(s) complete"
    if unwritten:
        detail += f"; {unwritten} segment(s) not yet written to disk (their records are all in the log)"
    return Check("files", "pass", detail)


def _segment_problems(folder: Path, segments: list[VectorSegment]) -> list[str]:
    problems = []
    for segment in segments:
        # Decision, from chromadb 1.5.9: until a vector segment first reaches hnsw:sync_threshold
        # (1,000 records) it has no max_seq_id row, every record is still in the log, and chromadb
        # rebuilds the index from the log on open without reading the folder (which holds an empty
        # index and no index_metadata.pickle; an empty collection has no folder at all). So only a
        # written segment must have its folder and all five files.
        if not segment.on_disk(folder):
            continue
        if not (folder / segment.id).is_dir():
            problems.append(f"segment folder {segment.id} is missing")
            continue
        missing = [name for name in SEGMENT_FILES if not (folder / segment.id / name).is_file()]
        if missing:
            problems.append(f"{segment.id} lacks {', '.join(missing)}")
    return problems


def _database_problems(folder: Path) -> list[str]:
    database = folder / DATABASE
    problems = []
    if not database.is_file():
        problems.append(f"{DATABASE} is missing")
    elif database.stat().st_size == 0:
        problems.append(f"{DATABASE} is empty")
    for suffix in LEFTOVER_SUFFIXES:
        if (folder / f"{DATABASE}{suffix}").exists():
            problems.append(f"leftover {DATABASE}{suffix}: the database was copied while a write was open")
    return problems
