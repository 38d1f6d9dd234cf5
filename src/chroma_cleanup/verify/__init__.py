"""Local half of `chroma-cleanup verify`: prove a downloaded ChromaDB snapshot folder is healthy."""

from chroma_cleanup.verify.local import check_local_snapshot
from chroma_cleanup.verify.result import Check, LocalReport, Status

__all__ = ["Check", "LocalReport", "Status", "check_local_snapshot"]
