"""beatguide.client against a real server, and `beatguide serve --port 0` / `--stop-on-stdin-close`."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from beatguide import protocol as P
from beatguide.client import Client, ServerError, parse_announce, wait_until_up
from beatguide.demo import demo_inputs
from beatguide.engine import Engine, Request
from beatguide.osc_server import ANNOUNCE, OscServer
from conftest import free_port


@pytest.fixture(scope="module")
def server(models_dir):
    with OscServer(Engine(models_dir), port=0).start(warm_up=False) as srv:
        yield srv


def test_ping_status_generate(server):
    with Client(server.port) as c:
        models = c.ping()
        assert list(models) == server.names
        assert models["baseline"] == server.engine.capabilities("baseline")
        before = c.status()["served"]
        score = demo_inputs()["score"]
        reply = c.generate("baseline", variations=2, seed=3, score=score)
        assert reply.done[0] == 2 and reply.total_notes == reply.done[1] > 0
        expected = server.engine.generate(Request("baseline", 2, seed=3, score=score))
        assert len(reply.variation_notes(0)) == int(expected.loops[0][:, :9].sum())
        assert c.status()["served"] == before + 1


def test_server_errors_raise_or_come_back(server):
    with Client(server.port) as c:
        with pytest.raises(ServerError) as e:
            c.generate("no-such-model", score=demo_inputs()["score"])
        assert e.value.code == "unknown_model"
        reply = c.generate("baseline", check=False)  # no score for the baseline: no_input
        assert reply.error[0] == "no_input" and reply.done is None
        assert c.ping()  # the client goes on after errors


def test_requests_in_flight_are_matched_by_id(server):
    with Client(server.port) as c:
        x = demo_inputs()
        ids = [c.new_id() for _ in range(3)]
        for rid, seed in zip(ids, (1, 2, 1)):
            c.send(P.GENERATE, P.generate_args(rid, c.port, "baseline", seed=seed, score=x["score"]))
        got = {rid: c.wait(rid) for rid in reversed(ids)}  # waited for out of order
        a, b, a2 = (got[rid] for rid in ids)
        assert a.done and b.done and a2.done
        assert a.variation_notes(0) == a2.variation_notes(0) != b.variation_notes(0)


def test_timeout_when_nothing_answers():
    with Client(free_port(), timeout=0.3) as c:
        with pytest.raises(TimeoutError, match="beatguide serve"):
            c.ping()


def test_parse_announce():
    line = ANNOUNCE.format(host="127.0.0.1", port=50123, models="agvae2, baseline")
    assert parse_announce(line + "\n") == 50123
    assert parse_announce("2026-01-01 INFO serving agvae2 on 127.0.0.1:9010") is None


def test_serve_port_zero_announces_and_stops_with_stdin(models_dir):
    cmd = [
        sys.executable,
        "-m",
        "beatguide.cli",
        "--log-level",
        "WARNING",
        "serve",
        "--port",
        "0",
        "--models",
        str(models_dir),
        "--stop-on-stdin-close",
    ]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = parse_announce(p.stdout.readline())
        assert port and port != 9010
        assert set(wait_until_up(port, 10, proc=p)) >= {m.parent.name for m in models_dir.glob("*/model.json")}
        p.stdin.close()  # what the device's launcher dying looks like to the server
        assert p.wait(20) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()
    with Client(port, timeout=0.3) as c, pytest.raises(TimeoutError):
        c.ping()


def test_serve_stops_when_no_datagram_comes(models_dir):
    """--stop-when-idle: pings keep a shared server alive; once they stop, it stops."""
    cmd = [sys.executable, "-m", "beatguide.cli", "--log-level", "INFO", "serve", "--port", "0"]
    cmd += ["--models", str(models_dir), "--stop-when-idle", "1.5"]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = parse_announce(p.stdout.readline())
        with Client(port, timeout=2) as c:
            for _ in range(4):  # 4 s of pings, longer than the idle time
                c.ping()
                time.sleep(1)
        assert p.poll() is None
        assert p.wait(20) == 0
        assert "no datagram for 1.5 s: stopping" in p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()


def test_serve_refuses_a_negative_idle_time():
    cmd = [sys.executable, "-m", "beatguide.cli", "serve", "--stop-when-idle", "-1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "expected seconds, 0 or more" in proc.stderr


def test_wait_until_up_reports_a_dead_server(tmp_path):
    p = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(RuntimeError, match="status 3"):
        wait_until_up(free_port(), 10, proc=p)


def test_notes_decode_to_the_engine_loop(server):
    """The client's notes are the engine's hits, step by step (class, start beat)."""
    score = demo_inputs()["score"]
    with Client(server.port) as c:
        notes = c.generate("baseline", seed=5, score=score).variation_notes(0)
    loop = server.engine.generate(Request("baseline", 1, seed=5, score=score)).loops[0]
    steps, classes = np.nonzero(loop[:, :9])
    assert sorted(cls for cls, *_ in notes) == sorted(classes.tolist())
