"""Damage a copy of a healthy snapshot folder in each way users saw snapshots break."""

from __future__ import annotations

import os
import pickle
import sqlite3
from pathlib import Path

DATABASE = "chroma.sqlite3"


def segment_dir(folder: Path) -> Path:
    """The snapshot's only vector segment folder (the tests build one collection)."""
    (found,) = [path for path in folder.iterdir() if path.is_dir()]
    return found


def truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def zero_database_header(folder: Path) -> None:
    with open(folder / DATABASE, "r+b") as file:
        file.write(bytes(100))


def overwrite_middle_page(folder: Path) -> None:
    """Overwrite the middle one of the pages that hold data (a free page would prove nothing)."""
    path = folder / DATABASE
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    in_use = [row[0] for row in connection.execute("SELECT pageno FROM dbstat ORDER BY pageno")]
    (page_size,) = connection.execute("PRAGMA page_size").fetchone()
    connection.close()
    with open(path, "r+b") as file:
        file.seek((in_use[len(in_use) // 2] - 1) * page_size)  # pages count from 1
        file.write(bytes(range(256)) * (page_size // 256))


def empty_database(folder: Path) -> None:
    (folder / DATABASE).write_bytes(b"")


def leave_journal(folder: Path) -> None:
    """What a copy taken mid-transaction carries beside the database: a hot rollback journal."""
    (folder / f"{DATABASE}-journal").write_bytes((folder / DATABASE).read_bytes()[:4096])


class RunsCommand:
    """Unpickling this would run `touch sentinel`: the pickle a hostile bucket could hold."""

    def __init__(self, sentinel: Path) -> None:
        self.sentinel = sentinel

    def __reduce__(self):
        return (os.system, (f"touch {self.sentinel}",))


def plant_malicious_id_map(folder: Path, sentinel: Path) -> None:
    payload = {"id_to_label": RunsCommand(sentinel), "label_to_id": {}}
    (segment_dir(folder) / "index_metadata.pickle").write_bytes(pickle.dumps(payload))
