"""hero serve (issue 15): the resident server with real processes.

Each test has its own HERO_HOME (conftest), hence its own runtime folder, socket and server;
the conftest stops it at the end. Clients are the installed ``hero`` (the thin entry).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from tests.e2e.conftest import child_env, hero_exe

from herotui import server as wire
from herotui.server import cli as serve_cli


def run_hero(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([hero_exe(), *args], capture_output=True, text=True, env=env or child_env(), timeout=timeout)


def server_pids(home: Path) -> list[int]:
    """PIDs of every live hero server process started for ``home`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read()
            if b"herotui.server" not in cmd:
                continue
            with open(f"/proc/{entry}/environ", "rb") as fh:
                env = fh.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if f"HERO_HOME={home}".encode() in env and state != "Z":
            out.append(int(entry))
    return out


def wait_for(pred, timeout: float = 20.0, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step)
    return pred()


def start_server(env: dict | None = None) -> dict:
    """Start a server in the background with ``env`` and wait until it answers."""
    proc = subprocess.run([hero_exe(), "serve"], capture_output=True, text=True, env=env or child_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    info = serve_cli.status()
    assert info is not None
    return info


def test_ten_clients_at_once_start_one_server(hero_home):
    env = child_env()
    procs = [subprocess.Popen([hero_exe(), "contact", "list", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(10)]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    assert all(json.loads(out) == [] for out, _ in results)
    assert wait_for(lambda: serve_cli.status() is not None)
    time.sleep(0.5)  # a second server, if any had been started, would be alive by now
    pids = server_pids(hero_home)
    assert len(pids) == 1, pids
    assert serve_cli.status()["pid"] == pids[0]
    # every later client talks to that one server
    for i in range(3):
        assert run_hero("contact", "create", "--name", f"Ada Lovelace {i}").returncode == 0
    assert server_pids(hero_home) == pids
    assert len(json.loads(run_hero("contact", "list", "--json").stdout)) == 3


def test_idle_server_exits_and_removes_its_socket(hero_home):
    env = child_env(HERO_SERVE_IDLE="1")
    info = start_server(env)
    assert wire.server_running()
    assert os.path.exists(wire.socket_path())
    assert wait_for(lambda: not wire.server_running(), timeout=15), "the idle server did not exit"
    assert not os.path.exists(wire.socket_path())
    assert info["pid"] not in server_pids(hero_home)


def test_stale_socket_is_replaced(hero_home):
    folder = wire.ensure_runtime_dir()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(wire.socket_path(folder))  # a socket file nobody listens on (a server that crashed)
    stale.close()
    assert os.path.exists(wire.socket_path(folder))
    with pytest.raises(wire.ServerGone):
        wire.connect(folder)
    res = run_hero("contact", "create", "--name", "Grace Hopper")
    assert res.returncode == 0, res.stderr  # runs in-process while the server starts
    assert wait_for(lambda: serve_cli.status() is not None), "no server replaced the stale socket"
    res = run_hero("contact", "list", "--json")
    assert [c["name"] for c in json.loads(res.stdout)] == ["Grace Hopper"]


def test_server_of_another_version_is_replaced(hero_home):
    old = start_server(child_env(HERO_SERVE_VERSION="0.0.1+p0"))
    assert old["version"] == "0.0.1+p0"
    res = run_hero("contact", "list")
    assert res.returncode == 0, res.stderr
    new = wait_for(lambda: (s := serve_cli.status()) and s["pid"] != old["pid"] and s)
    assert new, "the old server was not replaced"
    assert new["version"] == wire.server_version()
    assert old["pid"] not in server_pids(hero_home)


def test_peer_of_another_uid_is_refused(hero_home):
    # the seam: the server believes its user is someone else, so this process is "another user"
    env = child_env(HERO_SERVE_EXPECT_UID=str(os.getuid() + 12345))
    start = subprocess.run([hero_exe(), "serve"], capture_output=True, text=True, env=env, timeout=60)
    assert wire.server_running()
    conn = wire.connect()
    msg = conn.read_message(timeout=10)
    conn.close()
    assert msg["error"]["code"] == -32010 and "refused" in msg["error"]["message"], (msg, start.stderr)
    res = run_hero("contact", "create", "--name", "Alan Turing", env=env)
    assert res.returncode == 0  # the client ran it in-process
    assert "did not serve this client" in res.stderr
    res = run_hero("contact", "list", "--json", env=env)
    assert [c["name"] for c in json.loads(res.stdout)] == ["Alan Turing"]


@pytest.mark.parametrize("how", ["HERO_NO_SERVER", "runtime folder not ours"])
def test_without_a_server_everything_runs_in_process(hero_home, how):
    env = child_env()
    if how == "HERO_NO_SERVER":
        env["HERO_NO_SERVER"] = "1"
    else:
        run = hero_home / "run"
        run.mkdir(parents=True)
        if os.getuid() == 0:
            os.chown(run, 65534, 65534)  # root ignores modes: a folder of another user
        else:
            run.chmod(0o500)  # read-only
        assert wire.ensure_runtime_dir() is None
    assert run_hero("contact", "create", "--name", "Ada Lovelace", env=env).returncode == 0
    assert run_hero("calendar", "add", "Standup", "--start", "2026-12-07 10:00", env=env).returncode == 0
    res = run_hero("search", "ada", env=env)
    assert res.returncode == 0 and "Ada Lovelace" in res.stdout
    res = run_hero("contact", "show", "nope", env=env)
    assert res.returncode == 3 and "no contact" in res.stderr
    time.sleep(0.3)
    assert server_pids(hero_home) == []
    assert not wire.server_running()


def test_sigkill_mid_write_loses_no_acknowledged_write(hero_home):
    env = child_env(HERO_SERVE_HOLD="30")  # the stores stay open in the server: the resident path
    info = start_server(env)
    acked: list[str] = []
    failures: list[str] = []
    stop = threading.Event()

    def writer(n: int) -> None:
        try:
            conn = wire.connect()
            conn.call("hero.hello", {"version": wire.server_version(), "actor": "test"}, timeout=10)
        except wire.ServerGone:
            return
        i = 0
        while not stop.is_set():
            name = f"Writer{n} Item{i}"
            try:
                resp = conn.call("contact.create", {"name": name}, timeout=30)
            except (wire.ServerGone, OSError) as exc:
                failures.append(f"{name}: {exc}")  # in flight when the server died: not acknowledged
                return
            if "result" in resp:
                acked.append(name)
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    assert wait_for(lambda: len(acked) >= 30, timeout=60), f"only {len(acked)} writes acknowledged"
    os.kill(info["pid"], signal.SIGKILL)
    for t in threads:
        t.join(timeout=30)
    stop.set()
    before = list(acked)
    assert failures, "no write was in flight when the server was killed"
    # the next client finds the dead server's socket, runs in-process and brings up a new one
    res = run_hero("contact", "list", "--json", env=env)
    assert res.returncode == 0, res.stderr
    names = {c["name"] for c in json.loads(res.stdout)}
    missing = [n for n in before if n not in names]
    assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"
    new = wait_for(lambda: (s := serve_cli.status()) and s["pid"] != info["pid"] and s)
    assert new, "no new server came up"
    res = run_hero("search", "Writer0", "--no-fuzzy", "--limit", "100000", "--json", env=env)
    assert res.returncode == 0, res.stderr  # the index caught up with the database
    found = {h["title"] for h in json.loads(res.stdout)}
    assert {n for n in names if n.startswith("Writer0 ")} == found


def test_write_notification_reaches_a_subscriber_within_200ms(hero_home):
    start_server()
    sub = wire.connect()
    sub.call("hero.hello", {"version": wire.server_version(), "actor": "tui"}, timeout=10)
    assert sub.call("hero.subscribe", timeout=10)["result"]["subscribed"]
    got: list[tuple[float, dict]] = []

    def listen() -> None:
        msg = sub.read_message(timeout=60)
        got.append((time.monotonic(), msg))

    t = threading.Thread(target=listen)
    t.start()
    res = run_hero("contact", "create", "--name", "Lena Fischer")
    done = time.monotonic()
    assert res.returncode == 0, res.stderr
    t.join(timeout=5)
    assert got, "no notification"
    when, msg = got[0]
    assert msg["method"] == "hero.changed"
    assert msg["params"]["context"] == "personal" and msg["params"]["revision"] >= 1
    assert when - done <= 0.2, f"notification {when - done:.3f}s after the CLI write returned"
    sub.close()


def test_cli_calls_through_the_server_audit_the_real_actor(hero_home):
    info = start_server()
    assert run_hero("contact", "create", "--name", "Ada Lovelace").returncode == 0
    records = [json.loads(line) for line in (hero_home / "state" / "audit.jsonl").read_text().splitlines()]
    last = [r for r in records if r["verb"] == "contact.create"][-1]
    assert last["actor"] == "cli" and last["pid"] == info["pid"] and last["ok"]


def test_forwarded_output_equals_in_process_output(hero_home):
    start_server()
    run_hero("contact", "create", "--name", "Ada Lovelace", "--email", "ada@example.com", "--tag", "vip")
    run_hero("calendar", "add", "Standup", "--start", "2026-12-07 10:00")
    for args in (["contact", "list"], ["--json", "contact", "list"], ["search", "ada"], ["contact", "list", "--tag", "vip"],
                 ["calendar", "agenda", "--days", "400"], ["contact", "show", "nope"], ["contact", "list", "--limit", "x"]):
        served = run_hero(*args)
        local = run_hero(*args, env=child_env(HERO_NO_SERVER="1"))
        assert (served.returncode, served.stdout, served.stderr) == (local.returncode, local.stdout, local.stderr), args


def test_doctor_reports_and_fails_when_a_part_is_down(hero_home):
    run_hero("contact", "create", "--name", "Ada Lovelace")
    res = run_hero("doctor", "--json")
    report = json.loads(res.stdout)
    assert res.returncode == 0 and report["ok"], res.stdout
    parts = {c["part"]: c for c in report["checks"]}
    assert parts["context personal database"]["status"] == "ok"
    assert parts["context personal index"]["status"] == "ok"
    # a configured model endpoint nobody listens on is a part that is down
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = child_env(HERO_MODEL="openai/test", HERO_MODEL_API_BASE=f"http://127.0.0.1:{port}/v1")
    res = run_hero("doctor", "--json", env=env)
    report = json.loads(res.stdout)
    assert res.returncode == 1 and not report["ok"]
    assert any(c["status"] == "FAIL" and "not reachable" in c["detail"] for c in report["checks"])
    # and a folder others can read
    (hero_home / "contexts").chmod(0o755)
    res = run_hero("doctor")
    assert res.returncode == 1 and "FAIL  permissions" in res.stdout


def test_python_client_through_the_server(hero_home):
    from herotui.client import Hero, RemoteError
    from herotui.errors import NotFound

    with Hero.connect_server() as hero:
        ada = hero.contact.create(name="Ada Lovelace", emails=["ada@example.com"])
        assert hero.contact.show(ada.id).name == "Ada Lovelace"
        assert [c.name for c in hero.contact.list()] == ["Ada Lovelace"]
        with pytest.raises(NotFound):
            hero.contact.show("nope")
        pid = serve_cli.status()["pid"]
        records = [json.loads(line) for line in (hero_home / "state" / "audit.jsonl").read_text().splitlines()]
        assert [(r["actor"], r["pid"]) for r in records if r["verb"] == "contact.create"] == [("python", pid)]
        # the server dies: a read is sent again to a new server, a write is not
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not wire.server_running())
        assert [c.name for c in hero.contact.list()] == ["Ada Lovelace"]
        new = serve_cli.status()["pid"]
        assert new != pid
        os.kill(new, signal.SIGKILL)
        wait_for(lambda: not wire.server_running())
        with pytest.raises(RemoteError, match="may or may not have been saved"):
            hero.contact.create(name="Grace Hopper")


def test_forward_path_imports_no_heavy_module(hero_home):
    start_server()
    code = ("import sys; sys.argv = ['hero', 'contact', 'list']\n"
            "from herotui.server import entry\n"
            "try:\n    entry.main()\nexcept SystemExit as e:\n    code = e.code\n"
            "heavy = sorted(m for m in ('typer', 'click', 'pydantic', 'duckdb', 'rich', 'tantivy') if m in sys.modules)\n"
            "print('HEAVY', heavy, code, file=sys.stderr)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), timeout=60)
    assert "HEAVY [] 0" in res.stderr, res.stderr
    # a usage error goes to the full CLI in-process, which says what is wrong
    res = run_hero("contact", "list", "--limit", "many")
    assert res.returncode == 2 and "--limit" in res.stderr and "Traceback" not in res.stderr



def test_tui_follower_refreshes_within_200ms_of_a_cli_write(hero_home):
    from herotui.server import live

    start_server()
    seen: list[float] = []

    class Host:  # what the follower needs of the Textual app: call_from_thread
        def call_from_thread(self, fn):
            fn()

    done = threading.Event()
    t = live.follow(Host(), lambda: "personal", lambda: seen.append(time.monotonic()), stopped=done.is_set)
    assert t is not None
    assert wait_for(lambda: serve_cli.status() and serve_cli.status()["subscribers"] == 1, timeout=20)
    res = run_hero("contact", "create", "--name", "Lena Fischer")
    returned = time.monotonic()
    assert res.returncode == 0, res.stderr
    assert wait_for(lambda: seen, timeout=2), "the follower was not called"
    assert seen[0] - returned <= 0.2
    assert run_hero("context", "create", "work").returncode == 0
    assert run_hero("--context", "work", "contact", "create", "--name", "Ada Lovelace").returncode == 0
    time.sleep(0.3)
    assert len(seen) == 1  # a write in another context does not refresh this one
    done.set()


def test_server_exits_when_its_data_folder_is_removed(hero_home, tmp_path):
    home = tmp_path / "h"  # a short home: its socket lives inside it
    env = child_env(HERO_HOME=str(home))
    subprocess.run([hero_exe(), "serve"], capture_output=True, env=env, timeout=60, check=True)
    os.environ["HERO_HOME"] = str(home)
    try:
        assert wire.server_running()
        pid = wire.read_pid()[0]
        import shutil

        shutil.rmtree(home)
        assert wait_for(lambda: pid not in server_pids(home), timeout=10), "the server outlived its home"
    finally:
        os.environ["HERO_HOME"] = str(hero_home)


def test_commands_that_are_not_forwarded_start_no_server(hero_home):
    for args in (["serve", "status"], ["serve", "stop"], ["--help"], ["contact", "--help"]):
        run_hero(*args)
    time.sleep(0.3)
    assert server_pids(hero_home) == [] and not wire.server_running()
