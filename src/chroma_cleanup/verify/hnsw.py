"""The `hnsw` check: do the index files of each segment agree with their 100-byte header?

What chromadb 1.5.9 was seen to write (dimension 16: 204 bytes per element; 1,536: 6,284):
`data_level0.bin` is exactly cur_element_count * size_data_per_element bytes, not max_elements *
size (max_elements is capacity: 1,024 for 1,000 elements, 65,536 for 50,000); `length.bin` is
cur_element_count * 4 (one float32 norm per element); `link_lists.bin` is, per element, a uint32 n then
n bytes of upper-level links (n a multiple of maxM*4+4), ending exactly at EOF. Only a segment that
was never written (see files.py) holds an empty index sized by max_elements, and it is not read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from chroma_cleanup.verify.database import VectorSegment
from chroma_cleanup.verify.result import Check
from chroma_cleanup.verify.snapshot_files import DATA_LEVEL0, HEADER, INDEX_FILES, LENGTH, LINK_LISTS

HEADER_LAYOUT = struct.Struct("<iQQQQQQiiQQQdQ")
LABEL = struct.Struct("<Q")
# Read data_level0.bin a few MiB at a time: mapping it whole puts it all in RSS (314 MB at 50,000 x 1,536).
CHUNK_BYTES = 4 << 20
DELETED_MARK = 0x01  # hnswlib flags an element deleted in byte 2 of its level-0 link header


@dataclass(frozen=True)
class HnswHeader:
    version: int
    offset_level0: int
    max_elements: int
    cur_element_count: int
    size_data_per_element: int
    label_offset: int
    offset_data: int
    maxlevel: int
    enterpoint: int
    max_m: int
    max_m0: int
    m: int
    mult: float
    ef_construction: int

    @property
    def dimension(self) -> int:
        return (self.label_offset - self.offset_data) // 4


def read_header(path: Path) -> HnswHeader:
    data = path.read_bytes()
    if len(data) != HEADER_LAYOUT.size:
        raise ValueError(f"{path.name} is {len(data):,} bytes, expected {HEADER_LAYOUT.size}")
    return HnswHeader(*HEADER_LAYOUT.unpack(data))


def check_hnsw(folder: Path, segments: list[VectorSegment] | None) -> Check:
    if segments is None:
        return Check("hnsw", "skip", "SQLite cannot list its segments (see sqlite)")
    written = [s for s in segments if s.on_disk(folder)]
    present = [s for s in written if all((folder / s.id / name).is_file() for name in INDEX_FILES)]
    if not present:
        reason = "index files missing (see files)" if written else "no segment written to disk yet"
        return Check("hnsw", "skip", reason)
    problems, elements = [], 0
    for segment in present:
        try:
            header = read_header(folder / segment.id / HEADER)
        except ValueError as error:
            problems.append(f"{segment.id}: {error}")
            continue
        problems += [f"{segment.id}: {problem}" for problem in _index_problems(folder / segment.id, header, segment)]
        elements += header.cur_element_count
    if problems:
        return Check("hnsw", "fail", "; ".join(problems))
    detail = f"{len(present)} index(es), {elements:,} elements, files match their headers"
    if len(present) < len(written):
        detail += f"; {len(written) - len(present)} not checked (see files)"
    return Check("hnsw", "pass", detail)


def _index_problems(segment_dir: Path, header: HnswHeader, segment: VectorSegment) -> list[str]:
    """What is wrong with one segment's index files, judged by `header`."""
    problems = _header_problems(header, segment.dimension)
    if problems:
        return problems
    cur, size = header.cur_element_count, header.size_data_per_element
    for name, expected in ((DATA_LEVEL0, cur * size), (LENGTH, cur * 4)):
        actual = (segment_dir / name).stat().st_size
        if actual != expected:
            problems.append(f"{name} is {actual:,} bytes, its header says {expected:,}")
    link_problem = _link_lists_problem((segment_dir / LINK_LISTS).read_bytes(), header)
    return problems + ([link_problem] if link_problem else [])


def live_labels(segment_dir: Path, header: HnswHeader) -> set[int]:
    """Labels of the elements in data_level0.bin that are not marked deleted."""
    size = header.size_data_per_element
    per_chunk = max(1, CHUNK_BYTES // size)
    flags_at = header.offset_level0 + 2
    labels: set[int] = set()
    with open(segment_dir / DATA_LEVEL0, "rb") as file:
        for first in range(0, header.cur_element_count, per_chunk):
            chunk = file.read(min(per_chunk, header.cur_element_count - first) * size)
            labels.update(
                LABEL.unpack_from(chunk, start + header.label_offset)[0]
                for start in range(0, len(chunk) - size + 1, size)
                if not chunk[start + flags_at] & DELETED_MARK
            )
    return labels


def _header_problems(header: HnswHeader, dimension: int | None) -> list[str]:
    problems = []
    if header.version != 1:
        problems.append(f"header version {header.version}, expected 1")
    if header.cur_element_count > header.max_elements:
        problems.append(f"header counts {header.cur_element_count:,} elements, above its capacity")
    # Level-0 element: uint32 link header, maxM0 uint32 links, the vector, a uint64 label.
    if (
        header.offset_level0 != 0
        or header.offset_data != 4 + 4 * header.max_m0
        or header.label_offset + 8 != header.size_data_per_element
        or header.label_offset < header.offset_data
    ):
        problems.append("header element layout is inconsistent")
    elif dimension and header.dimension != dimension:
        problems.append(f"header is for dimension {header.dimension}, the collection has {dimension}")
    if header.cur_element_count and not 0 <= header.enterpoint < header.cur_element_count:
        problems.append(f"header entry point {header.enterpoint} is not an element")
    return problems


def _link_lists_problem(data: bytes, header: HnswHeader) -> str | None:
    block = 4 * header.max_m + 4  # one upper level: uint32 link header and maxM links
    longest = block * max(header.maxlevel, 0)
    position, end = 0, len(data)
    for element in range(header.cur_element_count):
        if position + 4 > end:
            return f"{LINK_LISTS} ends at element {element:,} of {header.cur_element_count:,}"
        size = int.from_bytes(data[position : position + 4], "little")
        if size % block or size > longest:
            return f"{LINK_LISTS} element {element:,} claims {size:,} bytes of links"
        position += 4 + size
    if position != end:
        return f"{LINK_LISTS} is {end:,} bytes, its {header.cur_element_count:,} elements fill {position:,}"
    return None
