"""Content-addressed files of a context: ``blobs/<aa>/<sha256>``.

A blob is written once (to a temporary name, then renamed, so a crash never leaves half a
file under a real name) and shared by every document with the same content. ``remove`` is
called by the owner of the last reference (documents decide, in their own transaction).
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator

if TYPE_CHECKING:
    from herotui.contexts import Context

CHUNK = 1 << 20


def path_for(ctx: Context, sha256: str) -> Path:
    return ctx.blobs_path / sha256[:2] / sha256


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(ctx: Context, data: bytes, sync: bool = True) -> str:
    """Store ``data``; returns its SHA-256. Storing the same content twice is a no-op.

    ``sync=False`` skips the per-file fsync (1-2 ms); a caller adding many files then calls
    :func:`sync_all` once before committing the rows that name them.
    """
    sha = sha256_of(data)
    target = path_for(ctx, sha)
    if target.exists():
        return sha
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(f".{sha}.{os.getpid()}.tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:  # owner-only
        fh.write(data)
        if sync:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, target)  # never half a file under the real name
    return sha


def sync_all() -> None:
    """Flush every file written without ``sync`` to disk."""
    if hasattr(os, "sync"):
        os.sync()


@contextmanager
def releasing(ctx: Context) -> Iterator[Callable[[str], None]]:
    """Remove blobs only if the surrounding write commits.

    Use around ``ctx.write()``: ``release(sha)`` moves the blob aside (under the write's
    lock, so no concurrent add can be relying on it); when the block ends normally the moved
    files are deleted, when it fails they are put back.
    """
    moved: list[tuple[Path, Path]] = []

    def release(sha: str) -> None:
        blob = path_for(ctx, sha)
        if blob.exists():
            trash = blob.with_name(f".{sha}.{os.getpid()}.deleted")
            os.replace(blob, trash)
            moved.append((trash, blob))

    try:
        yield release
    except BaseException:
        for trash, blob in moved:
            os.replace(trash, blob)
        raise
    for trash, _ in moved:
        trash.unlink(missing_ok=True)


def put_stream(ctx: Context, stream: BinaryIO, limit: int | None = None) -> tuple[str, int]:
    """Store a stream without holding it in memory; returns (sha256, size).

    Raises ``ValueError`` when more than ``limit`` bytes arrive (nothing is kept).
    """
    ctx.blobs_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = ctx.blobs_path / f".incoming.{os.getpid()}.tmp"
    h, size = hashlib.sha256(), 0
    try:
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:  # owner-only
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if limit is not None and size > limit:
                    raise ValueError(f"larger than {limit} bytes")
                h.update(chunk)
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        sha = h.hexdigest()
        target = path_for(ctx, sha)
        if target.exists():
            tmp.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.replace(tmp, target)
        return sha, size
    finally:
        tmp.unlink(missing_ok=True)


def read(ctx: Context, sha256: str) -> bytes:
    return path_for(ctx, sha256).read_bytes()


def remove(ctx: Context, sha256: str) -> None:
    path_for(ctx, sha256).unlink(missing_ok=True)
