"""Build a real ChromaDB snapshot folder with chromadb: for tests, the sandbox and the benchmark.

chromadb (and numpy, which comes with it) is the optional `chroma` extra, so both are imported lazily.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BATCH = 1_000
WORDS_PER_LINE, LINES_PER_RECEIPT, RECEIPTS_PER_IMAGE = 10, 10, 2


def build_snapshot(
    folder: Path,
    collection: str,
    ids: list[str],
    embeddings: Sequence[Sequence[float]] | Any,
    metadatas: list[dict[str, Any]],
) -> None:
    """Write `collection` with these records into a new chromadb persistent folder, then close it.

    `embeddings` is a list of lists or a numpy array. Records are added 1,000 at a time, as the
    pipeline's merges do, so hnsw:sync_threshold (1,000) splits them between the HNSW files and the log.
    """
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(folder), settings=Settings(anonymized_telemetry=False))
    try:
        target = client.create_collection(collection, embedding_function=None, metadata={"hnsw:space": "cosine"})
        for start in range(0, len(ids), BATCH):
            end = start + BATCH
            target.add(ids=ids[start:end], embeddings=embeddings[start:end], metadatas=metadatas[start:end])
    finally:
        client.close()  # releases the files: the folder is complete only after this


def random_embeddings(count: int, dimension: int, seed: int = 0) -> Any:
    """`count` deterministic float32 vectors as a numpy array: cheap stand-ins for real embeddings."""
    import numpy as np

    return np.random.default_rng(seed).standard_normal((count, dimension), dtype=np.float32)


def word_records(count: int, seed: int = 0) -> tuple[list[str], list[dict[str, Any]]]:
    """`count` deterministic word ids as the pipeline writes them, with their image_id/receipt_id metadata.

    Ten words a line, ten lines a receipt, two receipts an image.
    """
    rng = random.Random(seed)
    ids, metadatas = [], []
    per_receipt = WORDS_PER_LINE * LINES_PER_RECEIPT
    for n in range(count):
        receipt_number, position = divmod(n, per_receipt)
        if receipt_number % RECEIPTS_PER_IMAGE == 0 and position == 0:
            image_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        receipt_id = receipt_number % RECEIPTS_PER_IMAGE + 1
        line_id, word_id = divmod(position, WORDS_PER_LINE)
        ids.append(f"IMAGE#{image_id}#RECEIPT#{receipt_id:05d}#LINE#{line_id + 1:05d}#WORD#{word_id + 1:05d}")
        metadatas.append({"image_id": image_id, "receipt_id": receipt_id})
    return ids, metadatas
