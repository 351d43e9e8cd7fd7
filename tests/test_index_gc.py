"""Issue 13, item 8: index files left by concurrent writers are collected.

Writers in several processes overwrite Tantivy's ``.managed.json`` with their own view, so
files of segments another process made are never collected by Tantivy (a contention run:
``benchmarks/bench_reliability.py`` reports the count). Here the leftovers are made the way
they arise: segments that were live once, copied back after merges replaced them."""

from __future__ import annotations

import os
import shutil

from herotui import contexts, registry
from herotui.store import index


def _leftovers(n: int = 2) -> None:
    """Leftover segment files: the index's files after a few writes, copied back once later
    writes (and merges) have moved past them (n = 2: ~18 stale files, plenty to collect)."""
    ctx = contexts.current()
    folder = ctx.index_path
    saved = folder.parent / "saved-segments"
    for w in range(n):
        registry.call("contact.create", {"name": f"Gc Early {w}"}, ctx, actor="test")
        saved.mkdir(exist_ok=True)
        for name in os.listdir(folder):
            if index._SEGMENT_FILE.match(name):
                shutil.copy2(folder / name, saved / name)
    for i in range(12 * n):
        registry.call("contact.create", {"name": f"Gc Later {i}"}, ctx, actor="test")
    for name in os.listdir(saved):
        if not (folder / name).exists():
            shutil.copy2(saved / name, folder / name)
    shutil.rmtree(saved)


def test_stale_segment_files_are_collected_and_the_index_still_answers(hero_home):
    ctx = contexts.current()
    registry.call("contact.create", {"name": "First Person"}, ctx, actor="test")
    _leftovers(2)
    folder = ctx.index_path
    stale = index._stale(folder)
    assert len(stale) >= 2, "concurrent writers left too few stale files: the test proves nothing"
    idx = index.open_index(ctx)
    young = folder / stale[0]
    os.utime(young)  # just written: kept
    for name in stale[1:]:
        os.utime(folder / name, (1, 1))  # long ago
    removed = index.collect_garbage(ctx, idx, slack=0)
    assert removed == len(stale) - 1 and young.exists()
    assert index._stale(folder) == [stale[0]]
    assert len(index.search(ctx, "gc", limit=100)) == 2 + 24  # every contact but "First Person"
    registry.call("contact.create", {"name": "Gc After"}, ctx, actor="test")  # writes still work
    assert len(index.search(ctx, "gc", limit=100)) == 27


def test_nothing_is_collected_below_the_slack_or_while_another_writer_holds_the_lock(hero_home):
    ctx = contexts.current()
    registry.call("contact.create", {"name": "First Person"}, ctx, actor="test")
    _leftovers(2)
    folder = ctx.index_path
    for name in index._stale(folder):
        os.utime(folder / name, (1, 1))
    idx = index.open_index(ctx)
    n = len(index._stale(folder))
    assert index.collect_garbage(ctx, idx, slack=n) == 0  # few enough: left alone
    writer = idx.writer(heap_size=15_000_000, num_threads=1)  # a writer at work
    try:
        assert index.collect_garbage(ctx, idx, slack=0) == 0
    finally:
        writer.wait_merging_threads()
    assert len(index._stale(folder)) == n
    assert index.collect_garbage(ctx, idx, slack=0) == n
