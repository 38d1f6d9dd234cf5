"""Download one snapshot version concurrently, checking every file's size against S3."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from chroma_cleanup.aws.s3 import Bucket, ObjectVersion
from chroma_cleanup.errors import CleanupError
from chroma_cleanup.operations.model import Progress
from chroma_cleanup.verify.result import Check


def _local_path(root: Path, prefix: str, key: str) -> Path | None:
    """Where `key` goes below `root`; None for a key that would land outside it (the bucket is not ours)."""
    relative = PurePosixPath(key[len(prefix) :])
    if not relative.parts or relative.is_absolute() or ".." in relative.parts:
        return None
    return root.joinpath(*relative.parts)


def download(
    bucket: Bucket, prefix: str, objects: tuple[ObjectVersion, ...], root: Path, progress: Progress, workers: int = 8
) -> Check:
    root.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    progress.start(f"downloading {prefix}", len(objects))

    def fetch(obj: ObjectVersion) -> str | None:
        try:
            if obj.key.endswith("/") and obj.size == 0:
                return None  # a folder marker some upload tools write: nothing to download
            path = _local_path(root, prefix, obj.key)
            if path is None:
                return f"{obj.key}: unsafe key, not downloaded"
            path.parent.mkdir(parents=True, exist_ok=True)
            bucket.download(obj.key, str(path))
            size = path.stat().st_size
            if size != obj.size:
                return f"{obj.key}: {size:,} bytes on disk, {obj.size:,} in S3"
            return None
        except CleanupError as exc:
            return f"{obj.key}: {exc.message}"
        except Exception as exc:  # noqa: BLE001 - a bad object is reported, the others still come down
            return f"{obj.key}: {type(exc).__name__}: {exc}"
        finally:
            progress.advance()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="download") as pool:
        problems = [p for p in pool.map(fetch, objects) if p]
    progress.stop()
    total = sum(o.size for o in objects)
    if problems:
        more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        return Check("download", "fail", "; ".join(problems[:3]) + more)
    return Check("download", "pass", f"{len(objects):,} files, {total / 1e6:,.1f} MB; sizes match S3")
