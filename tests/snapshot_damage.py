"""Damage a copy of a healthy snapshot folder in each way users saw snapshots break."""

from __future__ import annotations

import os
import pickle
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
    path = folder / DATABASE
    data = path.read_bytes()
    page_size = int.from_bytes(data[16:18], "big")  # SQLite file header, offset 16
    start = (len(data) // page_size // 2) * page_size
    with open(path, "r+b") as file:
        file.seek(start)
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
