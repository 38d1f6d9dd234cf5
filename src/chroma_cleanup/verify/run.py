"""Verify one collection: locate, download, check the files, compare with DynamoDB."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from chroma_cleanup.aws.dynamo import Table
from chroma_cleanup.aws.s3 import Bucket
from chroma_cleanup.errors import ConfigError
from chroma_cleanup.layout import Layout
from chroma_cleanup.operations.model import Progress
from chroma_cleanup.verify.compare import RecentReceipts, check_counts, check_recent
from chroma_cleanup.verify.download import download
from chroma_cleanup.verify.expectations import recent_receipts, success_ids
from chroma_cleanup.verify.local import check_local_snapshot
from chroma_cleanup.verify.locate import locate
from chroma_cleanup.verify.result import Check

ORDER = ("locate", "download", "files", "sqlite", "hnsw", "ids", "counts", "recent_receipts", "chroma")


@dataclass
class CollectionReport:
    collection: str
    version: str | None = None
    embeddings: int | None = None
    checks: list[Check] = field(default_factory=list)
    recent: RecentReceipts = field(default_factory=RecentReceipts)
    source: str = ""

    @property
    def healthy(self) -> bool:
        return not any(c.status == "fail" for c in self.checks)

    def as_dict(self) -> dict:
        return {
            "collection": self.collection,
            "version": self.version,
            "source": self.source,
            "healthy": self.healthy,
            "embeddings": self.embeddings,
            "checks": [{"name": c.name, "status": c.status, "detail": c.detail} for c in self.checks],
            "recent_receipts": self.recent.as_dict(),
        }


def _skip_rest(report: CollectionReport, reason: str) -> CollectionReport:
    done = {c.name for c in report.checks}
    report.checks += [Check(name, "skip", reason) for name in ORDER if name not in done]
    return report


def prepare_keep(keep: Path, collections: tuple[str, ...]) -> None:
    """Each collection's --keep folder must be new or empty: files of an earlier download would fill the
    gaps of this one, and a damaged snapshot would pass."""
    for name in collections:
        folder = keep / name
        try:
            if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
                raise ConfigError(
                    f"--keep folder {folder} is not empty: an earlier download would mix into this one",
                    "give a new or empty folder to --keep (or remove the old download)",
                )
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cannot use --keep {keep}: {exc.strerror or exc}", "give a folder you can write to"
            ) from None


def verify_local(folder: Path, collection: str, *, chroma_timeout: float) -> CollectionReport:
    if not folder.is_dir():
        raise ConfigError(f"--local {folder} is not a folder", "give the snapshot folder that holds chroma.sqlite3")
    report = CollectionReport(collection, version=None, source=str(folder))
    report.checks += [Check(name, "skip", "--local: the folder is already on disk") for name in ("locate", "download")]
    local = check_local_snapshot(folder, collection, chroma_timeout=chroma_timeout)
    report.embeddings = local.embeddings
    by_name = {c.name: c for c in local.checks}
    for name in ORDER[2:]:
        report.checks.append(by_name.get(name) or Check(name, "skip", "--local: no DynamoDB to compare with"))
    return report


@dataclass
class RemoteVerify:
    bucket: Bucket
    table: Table
    layout: Layout
    progress: Progress
    limit: int = 10
    keep: Path | None = None
    chroma_timeout: float = 120.0

    def collection(self, collection: str) -> CollectionReport:
        report = CollectionReport(collection)
        found = locate(self.bucket, self.layout, collection)
        report.version, report.checks = found.version, [found.check]
        if found.prefix:
            report.source = f"s3://{self.bucket.name}/{found.prefix}"
        if not found.objects:
            return _skip_rest(report, "no snapshot to check")
        if self.keep is not None:
            return self._check(report, found, self.keep / collection)
        with tempfile.TemporaryDirectory(prefix=f"chroma-verify-{collection}-") as tmp:
            return self._check(report, found, Path(tmp))

    def _check(self, report: CollectionReport, found, folder: Path) -> CollectionReport:
        report.checks.append(download(self.bucket, found.prefix, found.objects, folder, self.progress))
        local = check_local_snapshot(folder, report.collection, chroma_timeout=self.chroma_timeout)
        report.embeddings = local.embeddings
        checks = {c.name: c for c in local.checks}
        report.checks += [checks[name] for name in ("files", "sqlite", "hnsw", "ids")]
        if local.ids is None:
            report.checks += [
                Check(n, "skip", "SQLite could not say what the snapshot holds") for n in ("counts", "recent_receipts")
            ]
        else:
            expected = success_ids(self.table, self.layout, report.collection)
            item_type = self.layout.item_type_for(report.collection)
            report.checks.append(check_counts(local.ids, expected, item_type))
            recent, report.recent = check_recent(
                recent_receipts(self.table, self.layout, self.limit), expected, local.ids
            )
            report.checks.append(recent)
        report.checks.append(checks["chroma"])
        return report
