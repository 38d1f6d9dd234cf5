"""Read a segment's index_metadata.pickle without letting it run code.

The file comes from a bucket, so it is untrusted. chromadb 1.5.9 writes a protocol-3 pickle of plain
data: {"dimensionality": None, "total_elements_added": int, "max_seq_id": None, "id_to_label": {id:
label}, "label_to_id": {label: id}, "id_to_seq_id": {}}. Dicts, strings and ints are built by opcodes
alone, so no global is ever needed and every global is refused: that is what stops REDUCE from
calling os.system or anything else.
"""

from __future__ import annotations

import pickle
from pathlib import Path


class _PlainDataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> None:
        raise pickle.UnpicklingError(f"refused to load {module}.{name}: the id map may hold plain data only")


def load_id_map(path: Path) -> dict[str, int]:
    """The index's id -> label map; raises on anything but the plain-data shape above."""
    with open(path, "rb") as file:
        data = _PlainDataUnpickler(file).load()
    id_to_label = data.get("id_to_label") if isinstance(data, dict) else None
    if not isinstance(id_to_label, dict):
        raise ValueError("no id_to_label map")
    if not all(isinstance(key, str) and isinstance(label, int) for key, label in id_to_label.items()):
        raise ValueError("id_to_label holds something other than id -> label")
    if data.get("label_to_id") != {label: key for key, label in id_to_label.items()}:
        raise ValueError("label_to_id is not the inverse of id_to_label")
    return id_to_label
