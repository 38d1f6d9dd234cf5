"""Reset a ChromaDB-on-AWS embedding pipeline for testing, then verify the rebuilt snapshots."""

__version__ = "0.1.0"
