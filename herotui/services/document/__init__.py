"""Documents: files with their text, tags and links to contacts and events; summaries.

Decisions (the issue left them open):

* **Storage.** The file's bytes go to ``blobs/<aa>/<sha256>`` *before* its row is written, so
  a crash leaves complete documents only; a blob without a row (a crash between the two) is
  harmless and is reused by the next add of the same content. The same content added twice
  is reported as a duplicate (with the existing id) and not stored again.
* **Adding folders.** Folders are walked recursively, in name order; hidden files and folders
  (``.git``...) are left out unless ``--hidden``; symbolic links are followed, and a link back
  into a folder already walked is reported as a loop. Files are handled in batches of
  ``BATCH_FILES`` (or ``BATCH_TEXT_BYTES`` of text): the text is extracted *outside* any
  lock, then one short write transaction per batch stores the rows, so 10,000 files neither
  hold the context's lock for minutes nor sit in memory at once. Progress is reported to
  the caller's ``registry.PROGRESS`` (the CLI draws a bar on standard error when it is a
  terminal); nothing is counted when nobody watches.
* **Bad input never stops an add**: each bad file is skipped with its reason (missing, too
  large, a symlink loop, a damaged PDF, unreadable, empty), valid files are still added, and
  the verb succeeds. Only when *nothing* could be added (no new document, no duplicate) and
  something was skipped does it fail (exit 1) with the reasons. Binaries and other types
  are stored with the note "no text extracted (<type>)"; a password-protected PDF is stored
  with the note "encrypted PDF: no text extracted"; text that is not UTF-8 is decoded by
  guessing its encoding, and the note says which.
* **Size limit**: ``--max-mb``, else ``HERO_MAX_DOCUMENT_MB``, else 50 MB.
* **Deleting** removes the row and its index entry (a tombstone), and the blob only when no
  other document has the same content. The blob is moved aside inside the write and removed
  after the commit, and ``add`` re-stores a blob that vanished under it, so two processes
  adding and deleting the same content cannot leave a document without its file.
* **Export** writes the original bytes into a folder under the original file name, made
  safe (no path separators, no ``..``, no control or reserved characters); an existing file
  is never overwritten (``name-1.ext``...), and the result is checked to be inside the folder.
* **Open** returns what to show (``Opened``): the text of Markdown and text documents, the
  stored file of other kinds. The front-end shows it: the CLI pages the text (``$PAGER``,
  default ``less``) or copies the file to a private temporary folder and hands it to
  ``$HERO_OPENER``, else ``xdg-open`` (``open`` on macOS); with none available (or no
  graphical session) a clear error and a hint. The verb is marked ``terminal``: MCP and RPC
  do not serve it.
* ``--contact`` accepts a contact id prefix, an email, or a name (every word of it must be a
  word of the contact's name: "alex" finds "Alex Smith"); ``--event`` an event id prefix, its
  iCalendar UID or its title.

The package, by concern: ``models`` (records and results), ``lookup`` (documents by id,
contacts and events by name), ``files`` (reading and writing files safely), ``adding``,
``reading``, ``changing``, ``exporting`` (export, open), ``summaries``. The verbs are
registered in that order when this package is imported (the registry imports
``herotui.services.document``), and every name stays importable from here.
"""

from __future__ import annotations

from herotui.services.document.models import (
    COLUMNS, KINDS, TEXT_KINDS, AddReport, Deleted, Document, DocumentDetail, DocumentText, Duplicate, Exported, Id,
    Opened, Skipped, Summary, SummaryPart, Tags,
)
from herotui.services.document.lookup import (
    document_detail, document_of_row, get_document, resolve_document, resolve_links, resolve_contact, resolve_event,
)
from herotui.services.document.files import (
    RESERVED_NAMES, UNSAFE_CHARS, BROKEN_LINK, DEFAULT_MAX_MB, MISSING, blob_bytes, check_file_root, count_files, hash_file, megabytes, NotRegular,
    open_regular, os_reason, readable_name, TooLarge, write_new, max_bytes, safe_filename,
)
from herotui.services.document.adding import (
    BATCH_FILES, BATCH_TEXT_BYTES, Adder, NoProgress, ProgressReport, progress_for, stdin_bytes, add,
)
from herotui.services.document.reading import list_, search, show, text
from herotui.services.document.changing import relink, retag_document, delete, link, tag, unlink, untag, update
from herotui.services.document.exporting import export, open_
from herotui.services.document.summaries import summary_text, summarize

SERVICE = "document"  # each verb module names it too (the registry reads the function's module)

__all__ = [
    "SERVICE", "COLUMNS", "KINDS", "TEXT_KINDS", "DEFAULT_MAX_MB", "BATCH_FILES", "BATCH_TEXT_BYTES", "MISSING",
    "BROKEN_LINK", "Id", "Tags",
    "AddReport", "Deleted", "Document", "DocumentDetail", "DocumentText", "Duplicate", "Exported", "Opened", "Skipped",
    "Summary", "SummaryPart",
    "document_detail", "document_of_row", "get_document", "resolve_document", "resolve_links", "resolve_contact", "resolve_event",
    "blob_bytes", "check_file_root", "count_files", "hash_file", "megabytes", "NotRegular", "open_regular", "os_reason",
    "readable_name", "TooLarge", "write_new", "max_bytes", "safe_filename",
    "RESERVED_NAMES", "UNSAFE_CHARS", "Adder", "NoProgress", "ProgressReport", "progress_for", "stdin_bytes", "relink", "retag_document",
    "summary_text",
    "add", "list_", "show", "text", "search", "update", "tag", "untag", "link", "unlink", "delete", "export", "open_",
    "summarize",
]
