"""Delete the snapshots of one collection: every object under `{collection}/snapshot/` and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from chroma_cleanup.aws.s3 import Bucket, ObjectVersion
from chroma_cleanup.operations.model import Progress, StepResult


@dataclass
class DeleteSnapshots:
    bucket: Bucket
    collection: str
    prefix: str  # e.g. "words/snapshot/": the trailing slash keeps "words/snapshots/" out
    purge_versions: bool = False
    active_locks: tuple[str, ...] = ()
    force: bool = False
    # Asked again just before deleting: a compaction may have started while the user read the plan.
    recheck_locks: Callable[[], list[str]] | None = None
    # Apply deletes exactly what the plan listed: deleting while paging through a listing can skip entries.
    _targets: list[ObjectVersion] = field(default_factory=list)

    def plan(self) -> StepResult:
        mode = "every version" if self.purge_versions else "current objects"
        result = StepResult("snapshots", f"s3://{self.bucket.name}/{self.prefix} ({mode})", self.collection)
        if self.active_locks and not self.force:
            result.refused = (
                f"compaction lock on {self.collection} has not expired: {self.active_locks[0]}; "
                "a compaction may be writing a snapshot (wait, or pass --force)"
            )
        elif self.active_locks:
            result.warnings.append(f"--force: ignoring the compaction lock {self.active_locks[0]}")
        self._targets = []
        for version in self.bucket.versions(self.prefix):
            if self.purge_versions:
                self._targets.append(version)
                result.example(_describe(version))
            elif version.is_latest and not version.is_delete_marker:
                # No VersionId: on a versioned bucket this leaves a delete marker, so it can be undone.
                self._targets.append(ObjectVersion(version.key, None, True, False, version.size))
                result.example(version.key)
            elif version.is_latest:
                result.unchanged += 1  # already deleted: only a delete marker is left
        result.planned = len(self._targets)
        return result

    def apply(self, result: StepResult, progress: Progress) -> StepResult:
        result.applied = True
        if not self.force and self.recheck_locks and (locks := self.recheck_locks()):
            result.fail(self.prefix, "CompactionLocked", f"a compaction lock was taken after the plan: {locks[0]}")
            return result
        progress.start(f"deleting {self.prefix}", result.planned)
        for deleted, failures in self.bucket.delete(self._targets):
            result.changed += deleted
            for failure in failures:
                version = f"?versionId={failure.version_id}" if failure.version_id else ""
                result.fail(failure.key + version, failure.code, failure.message)
            progress.advance(deleted + len(failures))
        progress.stop()
        return result


def _describe(version: ObjectVersion) -> str:
    kind = "delete marker" if version.is_delete_marker else "version"
    return f"{version.key} ({kind} {version.version_id})"
