"""Find the snapshot version a collection's pointer names, or the legacy `latest/` folder."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chroma_cleanup.aws.s3 import Bucket, ObjectVersion
from chroma_cleanup.layout import Layout
from chroma_cleanup.verify.result import Check

_VERSION = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Located:
    version: str | None
    prefix: str | None
    objects: tuple[ObjectVersion, ...]
    check: Check


def locate(bucket: Bucket, layout: Layout, collection: str) -> Located:
    pointer_key = layout.pointer_key.format(collection=collection)
    pointer = bucket.read_text(pointer_key)
    where = f"s3://{bucket.name}/"
    if pointer is not None:
        version = pointer.lstrip("\ufeff").strip()  # some editors save a byte-order mark
        if not _VERSION.match(version):
            return Located(
                None, None, (), Check("locate", "fail", f"{pointer_key} holds no version id: {version[:60]!r}")
            )
        prefix = layout.timestamped_prefix.format(collection=collection) + version + "/"
        objects = tuple(bucket.objects(prefix))
        if not objects:
            detail = f"{pointer_key} names version {version}, but {where}{prefix} is empty"
            return Located(version, prefix, (), Check("locate", "fail", detail))
        return Located(version, prefix, objects, Check("locate", "pass", f"{pointer_key} -> {prefix}"))
    prefix = layout.legacy_latest_prefix.format(collection=collection)
    objects = tuple(bucket.objects(prefix))
    if objects:
        detail = f"no {pointer_key}; using the legacy folder {prefix}"
        return Located("latest", prefix, objects, Check("locate", "warn", detail))
    detail = (
        f"no {collection} snapshot in {where} (no {pointer_key}, no {prefix}); "
        "expected right after a cleanup: run the ingest pipeline to rebuild it"
    )
    return Located(None, None, (), Check("locate", "fail", detail))
