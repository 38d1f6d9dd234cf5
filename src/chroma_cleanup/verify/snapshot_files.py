"""Names chromadb gives the files of a persistent directory."""

DATABASE = "chroma.sqlite3"
# A database left open mid-transaction or in WAL mode leaves one of these beside it.
LEFTOVER_SUFFIXES = ("-journal", "-wal")

HEADER = "header.bin"
DATA_LEVEL0 = "data_level0.bin"
LENGTH = "length.bin"
LINK_LISTS = "link_lists.bin"
ID_MAP = "index_metadata.pickle"
INDEX_FILES = (HEADER, DATA_LEVEL0, LENGTH, LINK_LISTS)
SEGMENT_FILES = (*INDEX_FILES, ID_MAP)
