"""Damage a snapshot folder the way users saw it, so `verify` can be shown catching it."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def _data_pages(path: Path) -> tuple[list[int], int]:
    """Pages that hold data (a free page could be overwritten harmlessly), and the page size."""
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        (page_size,) = connection.execute("PRAGMA page_size").fetchone()
        try:
            pages = [row[0] for row in connection.execute("SELECT DISTINCT pageno FROM dbstat ORDER BY pageno")]
        except sqlite3.OperationalError:  # SQLite built without dbstat: assume every page is in use
            (count,) = connection.execute("PRAGMA page_count").fetchone()
            pages = list(range(2, count + 1))
    finally:
        connection.close()
    return pages, page_size


def damage_snapshot(folder: Path) -> None:
    """Overwrite a data page in the middle of chroma.sqlite3 ("database disk image is malformed") and cut
    the HNSW link lists short (wrong search results, which chromadb itself never reports)."""
    sqlite = folder / "chroma.sqlite3"
    pages, page_size = _data_pages(sqlite)
    with sqlite.open("r+b") as fh:
        fh.seek((pages[len(pages) // 2] - 1) * page_size)
        fh.write(b"\xa5" * page_size)
    for links in folder.glob("*/link_lists.bin"):
        size = links.stat().st_size
        with links.open("r+b") as fh:
            fh.truncate(size // 2)
