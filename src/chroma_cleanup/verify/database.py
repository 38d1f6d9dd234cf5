"""Read what chromadb's SQLite holds, read-only and without chromadb."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from chroma_cleanup.verify.snapshot_files import ID_MAP

CHROMA_TABLES = ("collections", "segments", "embeddings", "embedding_metadata", "embeddings_queue", "max_seq_id")


@dataclass(frozen=True)
class VectorSegment:
    id: str
    collection_id: str
    dimension: int | None
    # Last log position written into the HNSW files; None when they were never written.
    absorbed_seq_id: int | None

    @property
    def written(self) -> bool:
        return self.absorbed_seq_id is not None

    def on_disk(self, folder: Path) -> bool:
        """Whether chromadb will load this segment's index files: written, or an id map is there anyway
        (chromadb loads the files without a max_seq_id row, so they must be checked all the same)."""
        return self.written or (folder / self.id / ID_MAP).is_file()


@dataclass(frozen=True)
class Collection:
    id: str
    name: str
    vector_segment: VectorSegment
    ids: frozenset[str]  # what its metadata segment's `embeddings` rows hold
    log: tuple[tuple[int, str], ...]  # (operation, id) the vector segment has not absorbed, oldest first


@dataclass
class Database:
    """What the sqlite check found. `vector_segments` is None when even the segment list is unreadable."""

    vector_segments: list[VectorSegment] | None = None
    problems: list[str] = field(default_factory=list)
    collection: Collection | None = None


def read_database(path: Path, collection_name: str) -> Database:
    """Open `path` read-only and gather what the checks need; a damaged file becomes `problems`."""
    database = Database()
    try:
        # mode=ro: a downloaded snapshot must stay byte-for-byte what was downloaded.
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        database.problems.append(f"cannot open: {error}")
        return database
    try:
        _read(connection, collection_name, database)
    except sqlite3.Error as error:
        database.problems.append(str(error))
    finally:
        connection.close()
    return database


def _read(connection: sqlite3.Connection, collection_name: str, database: Database) -> None:
    try:
        database.vector_segments = _vector_segments(connection)
    except sqlite3.Error:
        pass  # integrity_check below names the damage
    # integrity_check, not quick_check: only the former compares indexes with their tables.
    rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    if rows != ["ok"]:
        database.problems.append("integrity_check: " + "; ".join(rows[:3]) + (" …" if len(rows) > 3 else ""))
        return
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [name for name in CHROMA_TABLES if name not in tables]
    if missing:
        database.problems.append("not a chromadb database: no table " + ", ".join(missing))
        return
    database.collection = _collection(connection, collection_name, database)


def _vector_segments(connection: sqlite3.Connection) -> list[VectorSegment]:
    rows = connection.execute(
        "SELECT s.id, s.collection, c.dimension, m.seq_id FROM segments s"
        " LEFT JOIN collections c ON c.id = s.collection"
        " LEFT JOIN max_seq_id m ON m.segment_id = s.id"
        " WHERE s.scope = 'VECTOR' ORDER BY s.id"
    )
    return [VectorSegment(*row) for row in rows]


def _collection(connection: sqlite3.Connection, name: str, database: Database) -> Collection | None:
    found = connection.execute("SELECT id FROM collections WHERE name = ?", (name,)).fetchall()
    if len(found) != 1:
        names = sorted(row[0] for row in connection.execute("SELECT name FROM collections"))
        what = "no collection" if not found else f"{len(found)} collections"
        database.problems.append(f"{what} named {name!r} (found: {', '.join(names) or 'none'})")
        return None
    collection_id = found[0][0]
    scopes = connection.execute("SELECT scope, id FROM segments WHERE collection = ?", (collection_id,)).fetchall()
    vectors = [s for s in database.vector_segments or [] if s.collection_id == collection_id]
    metadata = [segment_id for scope, segment_id in scopes if scope == "METADATA"]
    if len(vectors) != 1 or len(metadata) != 1:
        database.problems.append(
            f"collection {name!r} has {len(vectors)} vector and {len(metadata)} metadata segments, expected 1 of each"
        )
        return None
    vector = vectors[0]
    ids = frozenset(
        row[0] for row in connection.execute("SELECT embedding_id FROM embeddings WHERE segment_id = ?", metadata)
    )
    # Log topics look like persistent://default/default/<collection id> on chromadb 1.5.x.
    log = tuple(
        connection.execute(
            "SELECT operation, id FROM embeddings_queue WHERE topic LIKE ? AND seq_id > ? ORDER BY seq_id",
            (f"%/{collection_id}", vector.absorbed_seq_id or 0),
        )
    )
    return Collection(collection_id, name, vector, ids, log)
