"""Open a snapshot with chromadb and look up a few stored vectors; run by the `chroma` check.

Runs as `python -m chroma_cleanup.verify.chroma_probe` in its own process, because chromadb's native
code can crash or hang on damaged files. Reads {"folder", "collection", "ids"} as JSON on stdin and
prints one JSON line: the collection's count and, per sampled id found, its nearest neighbours.
"""

from __future__ import annotations

import json
import sys

NEIGHBOURS = 10


def probe(folder: str, collection_name: str, ids: list[str]) -> dict:
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=folder, settings=Settings(anonymized_telemetry=False))
    try:
        collection = client.get_collection(collection_name, embedding_function=None)
        count = collection.count()
        samples = _search_themselves(collection, ids, min(count, NEIGHBOURS)) if ids else []
    finally:
        client.close()
    return {"count": count, "samples": samples}


def _search_themselves(collection, ids: list[str], neighbours: int) -> list[dict]:
    """Each stored vector of `ids` searched for: its id and the ids and distances that come back."""
    stored = collection.get(ids=ids, include=["embeddings"])
    if not stored["ids"]:
        return []
    found = collection.query(query_embeddings=stored["embeddings"], n_results=neighbours, include=["distances"])
    return [
        {"id": own, "hits": hits, "distances": distances}
        for own, hits, distances in zip(stored["ids"], found["ids"], found["distances"], strict=True)
    ]


if __name__ == "__main__":
    request = json.load(sys.stdin)
    print(json.dumps(probe(request["folder"], request["collection"], request["ids"])))
