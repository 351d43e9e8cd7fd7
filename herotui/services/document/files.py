"""Files in and out, safely: the size limit, reading only regular files inside the allowed
folders, hashing, counting a walk, safe names, writing a new file without overwriting."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat as statmod
import tempfile
import unicodedata
from pathlib import Path

from herotui import settings
from herotui.errors import HeroError, InvalidInput
from herotui.paths import check_root
from herotui.services.common import EXPORT_TEMP, sweep_export_temps
from herotui.store import blobs


DEFAULT_MAX_MB = 50.0
MISSING = "no such file or folder"  # reasons a path was skipped: missing (exit 3 when nothing else happened)
BROKEN_LINK = "broken symlink (its target does not exist)"


def max_bytes(max_mb: float | None) -> int:
    """The size limit in bytes: ``--max-mb``, else ``HERO_MAX_DOCUMENT_MB``, else 50 MB."""
    if max_mb is None:
        current = settings.get()
        if current.problem("HERO_MAX_DOCUMENT_MB"):
            raw = (current.raw("HERO_MAX_DOCUMENT_MB") or "").strip()
            raise InvalidInput(f"HERO_MAX_DOCUMENT_MB='{raw}' is not a number", hint="e.g. HERO_MAX_DOCUMENT_MB=100")
        max_mb = current.HERO_MAX_DOCUMENT_MB
    if not max_mb > 0:
        raise InvalidInput(f"the size limit must be above 0 MB (got {max_mb:g})")
    return int(max_mb * 1024 * 1024)


def megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def os_reason(exc: OSError) -> str:
    if isinstance(exc, NotRegular):
        return exc.strerror

    if exc.errno == errno.ELOOP:
        return "symlink loop (a link that points back to itself)"
    if exc.errno == errno.ENOENT:
        return MISSING if not os.path.islink(exc.filename or "") else BROKEN_LINK
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


class TooLarge(Exception):
    pass


class NotRegular(OSError):
    """A path that is not read: it stopped being a regular file between its stat and its
    open, or (``reason``) a served client may not read there."""

    def __init__(self, path: str, reason: str = "not a regular file (a device, socket or pipe)") -> None:
        super().__init__(0, reason, path)


def open_regular(path: str):
    """``path`` opened for reading only if it is a regular file: opened with O_NONBLOCK (a
    FIFO swapped in after the walk's stat cannot block), checked with fstat, then read
    normally. Anything else raises ``NotRegular`` (an OSError whose strerror is the reason)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        check_file_root(path, fd)
        if not statmod.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular(path)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def check_file_root(path: str, fd: int | None = None) -> None:
    """``paths.check_root`` as the OSError the walk reports as a skipped path's reason."""
    try:
        check_root(path, fd=fd)
    except InvalidInput:
        raise NotRegular(path, "outside the folders this server may use") from None


def hash_file(path: str, limit: int) -> str:
    h = hashlib.sha256()
    size = 0
    with open_regular(path) as fh:
        while chunk := fh.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise TooLarge()
            h.update(chunk)
    return h.hexdigest()


def count_files(paths: list[str], hidden: bool, cap: int = 1_000_000) -> int:
    """How many files the paths hold (for the progress bar): a cheap walk, names only."""
    count = 0
    for raw in paths:
        p = os.path.expanduser(raw)
        if raw == "-" or not os.path.isdir(p):
            count += 1
            continue
        seen: set[tuple[int, int]] = set()
        stack = [p]
        while stack and count < cap:
            folder = stack.pop()
            try:
                st = os.stat(folder)
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
                with os.scandir(folder) as it:
                    for e in it:
                        if e.name.startswith(".") and not hidden:
                            continue
                        try:
                            if e.is_dir():
                                stack.append(e.path)
                            else:
                                count += 1
                        except OSError:
                            count += 1
            except OSError:
                continue
    return count


UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
RESERVED_NAMES = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.I)


def readable_name(name: str) -> str:
    """A file name as text the database can hold: a name that is not UTF-8 (a Latin-1
    'résumé.txt' from an old disk) is read as Windows-1252 rather than refused."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = os.fsencode(name)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252", errors="replace")


def safe_filename(name: str, fallback: str) -> str:
    """A file name that stays where it is written: no folders, no '..', nothing reserved."""
    name = unicodedata.normalize("NFC", name or "")
    name = UNSAFE_CHARS.sub("_", name)  # separators become '_': "../../etc/passwd" -> "etc_passwd"
    name = re.sub(r"_+", "_", name).strip(" ._")
    if RESERVED_NAMES.match(name):
        name = "_" + name
    if len(name.encode()) > 200:
        stem, dot, ext = name.rpartition(".")
        ext = dot + ext if dot and len(ext) <= 10 else ""
        base = (stem if ext else name).encode()[: 200 - len(ext.encode())].decode(errors="ignore")
        name = base + ext
    return name or fallback


def write_new(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as a new file in ``folder`` (``name``, else ``name-1``...), atomically."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    else:
        ext = "." + ext
    sweep_export_temps(folder)  # leftovers of a killed export
    fd, tmp = tempfile.mkstemp(prefix=EXPORT_TEMP, suffix=".tmp", dir=folder)
    try:

        with os.fdopen(fd, "wb") as fh:
            check_root(folder, write=True, fd=fh.fileno())  # the real folder the file was made in
            fh.write(data)
        for n in range(0, 10_000):
            candidate = folder / (f"{stem}-{n}{ext}" if n else name)
            # belt and braces: one plain name inside the folder (a link already there is
            # never followed: os.link and O_EXCL fail on it, and the next name is tried)
            if candidate.name in ("", ".", "..") or os.sep in candidate.name or candidate.parent != folder:
                raise HeroError(f"refusing to write {candidate}: it is outside {folder}")
            try:
                os.link(tmp, candidate)  # fails if it exists: never overwrites
                return candidate
            except FileExistsError:
                continue
            except OSError:  # no hard links here (some file systems): claim the name exclusively
                try:  # (never through a planted link), then move the finished file onto it
                    os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600))
                except FileExistsError:
                    continue
                os.replace(tmp, candidate)
                return candidate
        raise HeroError(f"too many files named like {name} in {folder}")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def blob_bytes(ctx, sha: str, did: str) -> bytes:
    try:
        return blobs.read(ctx, sha)
    except FileNotFoundError:
        raise HeroError(f"the file of document {did} is missing from {ctx.blobs_path}",
                        hint="add the file again ('hero document add PATH') to restore it") from None
