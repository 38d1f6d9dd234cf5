"""The snapshot bucket: listings by prefix, and deletes in batches of at most 1,000 keys."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import botocore.exceptions as bx

from chroma_cleanup.aws.clients import AwsSession, aws_errors, error_code, error_message

DELETE_BATCH = 1000  # DeleteObjects' limit on AWS (moto accepts more; we must not send more)


@dataclass(frozen=True)
class ObjectVersion:
    key: str
    version_id: str | None  # None: delete the current object (adds a marker when versioned)
    is_latest: bool
    is_delete_marker: bool
    size: int = 0


@dataclass(frozen=True)
class DeleteFailure:
    key: str
    version_id: str | None
    code: str
    message: str


class Bucket:
    def __init__(self, session: AwsSession, name: str) -> None:
        self.name = name
        self._s3 = session.client("s3")

    def versioning(self) -> str:
        """ "Enabled", "Suspended" or "" (never versioned)."""
        with aws_errors(f"bucket {self.name}"):
            return self._s3.get_bucket_versioning(Bucket=self.name).get("Status", "")

    def versions(self, prefix: str) -> Iterator[ObjectVersion]:
        """Every object version and delete marker whose key starts with `prefix`, page by page."""
        pages = self._s3.get_paginator("list_object_versions").paginate(Bucket=self.name, Prefix=prefix)
        with aws_errors(f"the listing of s3://{self.name}/{prefix}"):
            for page in pages:
                for entry in page.get("Versions", []):
                    if entry["Key"].startswith(prefix):
                        yield _version(entry, is_delete_marker=False)
                for entry in page.get("DeleteMarkers", []):
                    if entry["Key"].startswith(prefix):
                        yield _version(entry, is_delete_marker=True)

    def objects(self, prefix: str) -> Iterator[ObjectVersion]:
        """The current objects under `prefix` (a delete marker hides a key from this listing)."""
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix)
        with aws_errors(f"the listing of s3://{self.name}/{prefix}"):
            for page in pages:
                for entry in page.get("Contents", []):
                    if entry["Key"].startswith(prefix):
                        yield ObjectVersion(entry["Key"], None, True, False, entry.get("Size", 0))

    def read_text(self, key: str) -> str | None:
        """The body of `key`, or None when there is no such key."""
        with aws_errors(f"s3://{self.name}/{key}"):
            try:
                body = self._s3.get_object(Bucket=self.name, Key=key)["Body"].read()
            except bx.ClientError as exc:
                if error_code(exc) in ("NoSuchKey", "404"):
                    return None
                raise
        return body.decode("utf-8", errors="replace")

    def download(self, key: str, path: str) -> None:
        with aws_errors(f"s3://{self.name}/{key}"):
            self._s3.download_file(self.name, key, path)

    def delete(self, targets: Iterable[ObjectVersion]) -> Iterator[tuple[int, list[DeleteFailure]]]:
        """Delete in batches of at most 1,000; yield (deleted, failures) per batch.

        DeleteObjects answers 200 even when some keys failed, so every entry of `Errors` is a failure.
        A request that fails as a whole counts every key of its batch as failed.
        """
        batch: list[ObjectVersion] = []
        for target in targets:
            batch.append(target)
            if len(batch) == DELETE_BATCH:
                yield self._delete_batch(batch)
                batch = []
        if batch:
            yield self._delete_batch(batch)

    def _delete_batch(self, batch: list[ObjectVersion]) -> tuple[int, list[DeleteFailure]]:
        objects = [{"Key": t.key, "VersionId": t.version_id} if t.version_id else {"Key": t.key} for t in batch]
        # No aws_errors here: a refused or lost request is a failure of these keys, counted like any other,
        # not a setup error that would hide what the earlier batches deleted.
        try:
            answer = self._s3.delete_objects(Bucket=self.name, Delete={"Objects": objects, "Quiet": True})
        except bx.ClientError as exc:
            code, message = error_code(exc), error_message(exc)
            return 0, [DeleteFailure(t.key, t.version_id, code, message) for t in batch]
        except bx.BotoCoreError as exc:
            return 0, [DeleteFailure(t.key, t.version_id, type(exc).__name__, str(exc)) for t in batch]
        failures = [
            DeleteFailure(e.get("Key", "?"), e.get("VersionId"), e.get("Code", "Unknown"), e.get("Message", ""))
            for e in answer.get("Errors", [])
        ]
        return len(batch) - len(failures), failures


def _version(entry: dict, *, is_delete_marker: bool) -> ObjectVersion:
    return ObjectVersion(
        key=entry["Key"],
        version_id=entry.get("VersionId"),
        is_latest=bool(entry.get("IsLatest")),
        is_delete_marker=is_delete_marker,
        size=entry.get("Size", 0),
    )
