"""Logs: a rotating, bounded file in the state folder (HERO_HOME/state when HERO_HOME is set)."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler


def test_cli_logs_to_a_bounded_rotating_file_in_the_state_folder(hero, hero_home):
    r = hero("contact", "create", "--name", "Ada")  # first use: migrations are logged
    assert r.code == 0, r
    log = hero_home / "state" / "hero.log"
    assert log.is_file()
    assert "applied migration" in log.read_text()
    assert (log.stat().st_mode & 0o077) == 0 or (log.parent.stat().st_mode & 0o077) == 0


def test_rotation_keeps_the_log_bounded(hero_home, monkeypatch):
    from herotui import logs

    monkeypatch.setattr(logs, "_configured", False)
    monkeypatch.setattr(logs, "MAX_BYTES", 2000)
    root = logging.getLogger("hero")
    before = list(root.handlers)
    try:
        logs.setup()
        handler = next(h for h in root.handlers if isinstance(h, RotatingFileHandler) and h not in before)
        for i in range(500):
            root.warning("line %d %s", i, "x" * 40)
        handler.flush()
        files = sorted((hero_home / "state").glob("hero.log*"))
        assert len(files) == logs.BACKUPS + 1  # the live file and its backups, no more
        assert all(f.stat().st_size <= 2000 + 200 for f in files)
    finally:
        for h in root.handlers[:]:
            if h not in before:
                root.removeHandler(h)
                h.close()
