"""A document's file out of the store: written into a folder (``export``), or handed to the
front-end to show (``open``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from herotui.errors import InvalidInput
from herotui.paths import check_root, FILE_ROOTS
from herotui.registry import P, verb
from herotui.services import _extract
from herotui.services.document.files import blob_bytes, write_new, safe_filename
from herotui.services.document.lookup import resolve_document
from herotui.services.document.models import TEXT_KINDS, Exported, Id, Opened
from herotui.store import blobs

SERVICE = "document"


@verb(examples=["hero document export 01JD3", "hero document export 01JD3 --output ~/Desktop"])
def export(
    ctx,
    id: Id,
    output: Annotated[str | None, P("Folder to write into (created if missing; default: the current folder, "
                                    "or over MCP/RPC the first folder the server may use)", short="-o")] = None,
) -> Exported:
    """Write a document's original file into a folder (never overwriting a file there)."""
    with ctx.read() as conn:
        did = resolve_document(conn, id)
        title, kind, sha, filename = conn.execute("SELECT title, kind, sha256, filename FROM documents WHERE id = ?", [did]).fetchone()
    data = blob_bytes(ctx, sha, did)
    roots = FILE_ROOTS.get()  # a served client's default is the first folder it may use
    folder = Path(output).expanduser() if output else Path(roots.folders[0]) if roots else Path.cwd()
    check_root(folder, write=True)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not folder.is_dir():
            raise InvalidInput(f"{folder} is not a folder", hint="--output names a folder to write into")
        name = safe_filename(filename, "")
        if not name:
            name = safe_filename(title, did) + _extract.KIND_EXT.get(kind, "")
        path = write_new(folder, name, data)
    except FileExistsError:
        raise InvalidInput(f"{folder} is a file, not a folder", hint="--output names a folder to write into") from None
    except OSError as exc:
        raise InvalidInput(f"cannot write into {folder}: {exc.strerror or exc}", hint="check the folder is writable") from None
    except ValueError:  # a NUL byte, a name the OS cannot take
        raise InvalidInput("cannot write into that folder: not a valid folder name", hint="--output names a folder to write into") from None
    return Exported(id=did, title=title, path=str(path), size=len(data))


@verb(name="document.open", terminal=True, examples=["hero document open 01JD3", "PAGER=bat hero document open 01JD3"])
def open_(ctx, id: Id) -> Opened:
    """Open a document: Markdown and text in $PAGER (default less), other kinds in the system's viewer."""
    with ctx.read() as conn:
        did = resolve_document(conn, id)
        title, kind, sha, filename, body = conn.execute(
            "SELECT title, kind, sha256, filename, text FROM documents WHERE id = ?", [did]).fetchone()
    if kind in TEXT_KINDS and body is not None:
        return Opened(id=did, title=title, kind=kind, how="pager", text=body, chars=len(body))
    stored = blobs.path_for(ctx, sha)
    if not stored.is_file():
        blob_bytes(ctx, sha, did)  # the error that says the file is missing, and how to restore it
    name = safe_filename(filename, "") or safe_filename(title, did) + _extract.KIND_EXT.get(kind, "")
    return Opened(id=did, title=title, kind=kind, how="opener", file=str(stored), filename=name, chars=len(body or ""))
