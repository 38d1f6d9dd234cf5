"""The `ids` check: does the index, with the log chromadb replays on open, hold exactly SQLite's ids?"""

from __future__ import annotations

from pathlib import Path

from chroma_cleanup.verify.database import Collection
from chroma_cleanup.verify.hnsw import live_labels, read_header
from chroma_cleanup.verify.index_metadata import load_id_map
from chroma_cleanup.verify.result import Check
from chroma_cleanup.verify.snapshot_files import DATA_LEVEL0, HEADER, ID_MAP

# embeddings_queue.operation codes (chromadb.db.mixins.embeddings_queue); UPDATE (1) adds no id.
ADD, UPSERT, DELETE = 0, 2, 3
EXAMPLES = 3


def check_ids(folder: Path, collection: Collection) -> Check:
    segment = collection.vector_segment
    segment_dir = folder / segment.id
    id_map_path = segment_dir / ID_MAP
    if segment.written or id_map_path.exists():
        if not id_map_path.is_file():
            return Check("ids", "fail", f"{segment.id}/{ID_MAP} is missing: the index's ids are lost")
        try:
            id_map = load_id_map(id_map_path)
        except Exception as error:  # untrusted bytes may fail in any way
            return Check("ids", "fail", f"{segment.id}/{ID_MAP} is unreadable: {error}")
    else:
        id_map = {}
    labels_ok, labels_note = _compare_labels(segment_dir, set(id_map.values()))
    index_ids = set(id_map)
    held = replay(index_ids, collection.log)
    problems = _difference(held, collection.ids) + ([] if labels_ok else [labels_note])
    kept, added = len(index_ids & held), len(held - index_ids)
    summary = f"{len(collection.ids):,} ids in SQLite; index + log give {len(held):,}"
    if not problems:
        summary = f"{len(held):,} ids: {kept:,} in index + {added:,} in log"
        if len(index_ids) > kept:
            summary += f" ({len(index_ids) - kept:,} deleted in the log)"
    notes = [labels_note] if labels_ok and labels_note else []
    detail = "; ".join([summary, *problems, *notes])
    return Check("ids", "fail" if problems else "pass", detail)


def replay(index_ids: set[str], log: tuple[tuple[int, str], ...]) -> set[str]:
    """The ids chromadb's index holds once it has replayed `log` on open."""
    ids = set(index_ids)
    for operation, embedding_id in log:
        if operation in (ADD, UPSERT):
            ids.add(embedding_id)
        elif operation == DELETE:
            ids.discard(embedding_id)
    return ids


def _compare_labels(segment_dir: Path, labels: set[int]) -> tuple[bool, str]:
    """Whether the id map's labels are exactly the live elements of data_level0.bin, and what to say."""
    if not labels:
        return True, ""
    try:
        header = read_header(segment_dir / HEADER)
        if (segment_dir / DATA_LEVEL0).stat().st_size != header.cur_element_count * header.size_data_per_element:
            raise ValueError(f"{DATA_LEVEL0} does not match its header")
    except FileNotFoundError as error:
        return True, f"labels not compared: no {Path(error.filename).name} (see files)"
    except ValueError as error:
        return True, f"labels not compared: {error} (see hnsw)"
    stored = live_labels(segment_dir, header)
    if stored == labels:
        return True, f"labels match {DATA_LEVEL0}"
    return False, (
        f"{ID_MAP} maps {len(labels):,} labels, {DATA_LEVEL0} holds {len(stored):,} live ones"
        f" ({len(labels - stored):,} absent, {len(stored - labels):,} unmapped)"
    )


def _difference(held: set[str], expected: frozenset[str]) -> list[str]:
    problems = []
    for what, ids in (("missing from index + log", expected - held), ("unknown to SQLite", held - expected)):
        if ids:
            examples = ", ".join(sorted(ids)[:EXAMPLES])
            problems.append(f"{len(ids):,} {what} (e.g. {examples})")
    return problems
