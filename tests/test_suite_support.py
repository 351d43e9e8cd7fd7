"""The suite's own machinery (tests/support.py, tests/conftest.py): the scheduling tables name
modules that exist, and a template built once per run is built once however many ask at once."""

from __future__ import annotations

import threading
import time

import support

ROOT = support.ROOT


def test_the_scheduling_tables_name_existing_modules():
    for path in [*support.SHARED, *support.LONG_FIRST]:
        assert (ROOT / path).is_file(), f"{path} is in tests/support.py's scheduling tables but does not exist"
    assert len(set(support.LONG_FIRST)) == len(support.LONG_FIRST)


def test_built_once_builds_once_for_concurrent_askers_and_retries_after_a_failure(tmp_path):
    builds = []

    def build(folder):
        builds.append(folder)
        time.sleep(0.2)  # the others ask meanwhile
        folder.mkdir()
        (folder / "made").write_text(str(len(builds)))

    got = []
    threads = [threading.Thread(target=lambda: got.append(support.built_once(tmp_path / "t", build))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and got == [tmp_path / "t"] * 4
    assert (tmp_path / "t" / "made").read_text() == "1"

    def broken(folder):
        folder.mkdir()
        raise RuntimeError("half made")

    try:
        support.built_once(tmp_path / "u", broken)
    except RuntimeError:
        pass
    assert not (tmp_path / "u").exists(), "a failed build leaves nothing that looks built"
    assert (support.built_once(tmp_path / "u", build) / "made").is_file()
