"""Damage a snapshot folder the way users saw it, so `verify` can be shown catching it."""

from __future__ import annotations

from pathlib import Path


def damage_snapshot(folder: Path) -> None:
    """Overwrite a page in the middle of chroma.sqlite3 ("database disk image is malformed") and cut the
    HNSW link lists short ("Error loading hnsw index")."""
    sqlite = folder / "chroma.sqlite3"
    data = bytearray(sqlite.read_bytes())
    page = 4096
    middle = (len(data) // page // 2) * page
    data[middle : middle + page] = b"\xa5" * page
    sqlite.write_bytes(bytes(data))
    for links in folder.glob("*/link_lists.bin"):
        size = links.stat().st_size
        with links.open("r+b") as fh:
            fh.truncate(size // 2)
