"""The OSC server over real UDP loopback, with python-osc clients.

Models come from ``models/`` when it holds exported models, else from ``$BEATGUIDE_TEST_MODELS``
(e.g. randomly initialised exports); without either the tests are skipped.
"""

from __future__ import annotations

import logging
import math
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage

from beatguide import protocol as P
from beatguide.client import Client
from beatguide.demo import demo_inputs
from beatguide.engine import Engine, Request
from beatguide.errors import BeatGuideError
from beatguide.osc_server import OscServer, is_loopback
from conftest import free_port, reference_notes

REPO = Path(__file__).resolve().parent.parent
MODELS = ("agvae11", "agvae2", "baseline", "factorized")


@pytest.fixture(scope="module")
def models(models_dir) -> Path:
    return models_dir


@pytest.fixture(scope="module")
def engine(models) -> Engine:
    eng = Engine(models)
    missing = set(MODELS) - set(eng.names)
    if missing:
        pytest.skip(f"{models} lacks {', '.join(sorted(missing))}")
    return eng


@pytest.fixture(scope="module")
def server(engine):
    srv = OscServer(engine, port=0, threads=2, queue_size=64).start()
    yield srv
    srv.close()
    assert not any(t.is_alive() for t in srv._workers + [srv._receiver])


@pytest.fixture
def client(server):
    with Client(server.port) as c:
        yield c


def mask(bits) -> int:
    return P.steps_to_mask(np.asarray(bits) > 0.5)


def assert_matches(reply: P.Reply, res, n: int) -> None:
    """A reply carries exactly what Engine.generate returned for the same request."""
    assert reply.error is None, reply.error
    assert reply.done[0] == n and len(res.loops) == n
    total = 0
    for v in range(n):
        notes = reply.variation_notes(v)
        assert notes == reference_notes(res.loops[v])
        total += len(notes)
        for cls, start, dur, vel in notes:
            assert 0 <= cls < 9 and 0 <= start < 8 and dur == 0.25 and 1 <= vel <= 127
        if "score" in res.aux:
            assert reply.aux_score[v] == [mask(res.aux["score"][v][:, c]) for c in range(9)]
        else:
            assert v not in reply.aux_score
        if "groove" in res.aux:
            g = res.aux["groove"][v]
            gm, vel, off = reply.aux_groove[v]
            assert gm == mask(g[:, 0])
            np.testing.assert_allclose(vel, np.clip(g[:, 1], 0, 1), atol=1e-6)
            np.testing.assert_allclose(off, np.clip(g[:, 2], -1, 1), atol=1e-6)
        else:
            assert v not in reply.aux_groove
        if "accents" in res.aux:
            assert reply.aux_accents[v] == mask(res.aux["accents"][v])
        else:
            assert v not in reply.aux_accents
    assert reply.done[1] == total == reply.total_notes
    assert reply.done[3:] == [res.score_seed, res.groove_seed, 2]
    assert reply.done[2] > 0
    # order: each variation's notes (chunks in order), then its aux messages; done last
    assert reply.order[-1] == P.DONE and reply.order.count(P.DONE) == 1
    per_variation = [a for a in reply.order if a != P.NOTES]
    assert (
        per_variation[:-1] == [a for a in (P.AUX_SCORE, P.AUX_GROOVE, P.AUX_ACCENTS) if a.split("_")[1] in res.aux] * n
    )


# -- ping, status -------------------------------------------------------------------------------


def test_ping(client, engine):
    r = client.request(P.PING, [41, client.port])
    assert r.pong[:2] == [P.PROTOCOL_VERSION, len(engine.names)]
    assert r.models == {
        n: {
            k: P.bit_names(P.bits(v, vocab), vocab) if k != "needs" else v
            for (k, v), vocab in zip(
                engine.capabilities(n).items(), (P.GESTURES, P.LANE_MODES, P.LATENT_SOURCES, P.GESTURES, None)
            )
        }
        for n in engine.names
    }
    r = client.request(P.PING, [-5.0, float(client.port)])  # whole floats for ints
    assert r.pong[0] == P.PROTOCOL_VERSION


def test_status(engine):
    with OscServer(engine, port=0).start(warm_up=False) as srv, Client(srv.port) as c:
        st0 = c.request(P.STATUS, [1, c.port]).status
        assert st0[:3] == [0, 0, 0] and 0 <= st0[3] < 60
        c.generate("baseline", request_id=2, score=demo_inputs()["score"])
        c.request(P.GENERATE, P.generate_args(3, c.port, "baseline"))  # no score: no_input
        st1 = c.request(P.STATUS, [4, c.port]).status
        assert st1[:3] == [0, 1, 1] and st1[3] >= st0[3]


# -- generate: every model and task, checked against Engine.generate ----------------------------

X = demo_inputs()
CASES = {
    "factorized-humanize": ("factorized", dict(variations=2, seed=3, score=X["score"])),
    "agvae2-humanize": ("agvae2", dict(variations=8, seed=4, temperature=0.5, score=X["score"])),
    "factorized-drumify": ("factorized", dict(variations=1, seed=5, groove=X["groove"])),
    "agvae2-drumify": ("agvae2", dict(variations=3, seed=6, groove_seed=1234, groove=X["groove"])),
    "factorized-score+groove": ("factorized", dict(variations=2, seed=7, score=X["score"], groove=X["groove"])),
    "agvae2-score+groove+accents": (
        "agvae2",
        dict(variations=2, seed=8, score_seed=99, score=X["score"], groove=X["groove"], accents=X["accents"]),
    ),
    "agvae11-lanes+groove+accents": (
        "agvae11",
        dict(
            variations=4,
            seed=9,
            score_seed=77,
            score=X["score"],
            lane_modes=["given", "empty", "decide", "given", "empty", "empty", "empty", "decide", "decide"],
            groove=X["groove"],
            accents=X["accents"],
        ),
    ),
    "agvae11-all-decide": ("agvae11", dict(variations=2, seed=10, lane_modes=["decide"] * 9)),
    "agvae11-empty-lanes+groove": (
        "agvae11",
        dict(variations=1, seed=11, temperature=1.25, lane_modes=["empty"] * 9, groove=X["groove"]),
    ),
    "baseline-humanize": ("baseline", dict(variations=1, seed=12, score=X["score"])),
    "baseline-humanize-8": ("baseline", dict(variations=8, seed=13, temperature=1.25, score=X["score"])),
}


def engine_request(model: str, kw: dict) -> Request:
    """The engine Request the protocol describes for generate_args(**kw), built by hand."""
    score, groove = kw.get("score"), kw.get("groove")
    if groove is not None:
        groove = groove * (groove[:, :1] > 0.5)
    common = dict(
        variations=kw.get("variations", 1),
        temperature=kw.get("temperature", 1.0),
        seed=kw.get("seed", 0),
        score_seed=kw.get("score_seed"),
        groove_seed=kw.get("groove_seed"),
        groove=groove,
        accents=kw.get("accents"),
    )
    modes = kw.get("lane_modes") or ["given" if score is not None else "decide"] * 9
    if score is None:  # no score sent: given and exact lanes are the model's to decide
        modes = ["decide" if m in ("given", "exact") else m for m in modes]
    return Request(model, score=score, lane_modes=tuple(modes), **common)


@pytest.mark.parametrize("case", list(CASES))
def test_generate_matches_engine(case, client, engine):
    model, kw = CASES[case]
    reply = client.generate(model, request_id=100 + list(CASES).index(case), **kw)
    assert_matches(reply, engine.generate(engine_request(model, kw)), kw["variations"])


def test_locked_seeds(client):
    """'Same groove, new beat': sending back the groove seed keeps it; the score seed is new."""
    first = client.generate("agvae2", request_id=200, seed=1, groove=X["groove"])
    again = client.generate(
        "agvae2", request_id=201, seed=1, groove_seed=first.done[4], score_seed=first.done[3] + 1, groove=X["groove"]
    )
    assert again.done[4] == first.done[4] and again.done[3] == first.done[3] + 1
    same = client.generate("agvae2", request_id=202, seed=1, groove=X["groove"])
    assert same.variation_notes(0) == first.variation_notes(0)


def test_concurrent_requests_are_stateless(client, engine):
    """Requests in flight together from one client: each reply is its own request's."""
    kws = {300 + i: dict(variations=2, seed=i, score=X["score"]) for i in range(6)}
    for rid, kw in kws.items():
        client.send(P.GENERATE, P.generate_args(rid, client.port, "factorized", **kw))
    for rid, kw in kws.items():
        assert_matches(client.wait(rid), engine.generate(engine_request("factorized", kw)), 2)


# -- bad input: an error reply (or a drop), and the server keeps answering -----------------------


def good(rid, port, model="agvae2"):
    return P.generate_args(rid, port, model, score=X["score"])


def edit(args, changes: dict):
    """``args`` with {index: value} changed."""
    args = list(args)
    for i, v in changes.items():
        args[i] = v
    return args


BAD = {  # name: (address, args from (rid, port), expected code)
    "too-few-args": (P.GENERATE, lambda r, p: good(r, p)[:-1], "bad_args"),
    "too-many-args": (P.GENERATE, lambda r, p: good(r, p) + [0], "bad_args"),
    "no-args-after-port": (P.GENERATE, lambda r, p: [r, p], "bad_args"),
    "string-for-int": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_VARIATIONS: "two"}), "bad_args"),
    "non-whole-float-for-int": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_VARIATIONS: 1.5}), "bad_args"),
    "int-for-model": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_MODEL: 2}), "bad_args"),
    "blob-for-mask": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_MASKS: b"\x01"}), "bad_args"),
    "nan-temperature": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_TEMPERATURE: math.nan}), "bad_value"),
    "inf-velocity": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_VELOCITIES + 1: math.inf}), "bad_value"),
    "-inf-offset": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_OFFSETS + 9: -math.inf}), "bad_value"),
    "variations-9": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_VARIATIONS: 9}), "bad_value"),
    "temperature-5": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_TEMPERATURE: 5.0}), "bad_value"),
    "negative-seed": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_SEED: -3}), "bad_value"),
    "lane-mode-4": (P.GENERATE, lambda r, p: edit(good(r, p, "agvae11"), {P.A_MODES + 1: 4}), "bad_value"),
    "tapped-velocity-1.5": (
        P.GENERATE,
        lambda r, p: edit(P.generate_args(r, p, "agvae2", groove=X["groove"]), {P.A_VELOCITIES + 10: 1.5}),
        "bad_value",
    ),
    "mask-2^32": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_GROOVE_MASK: 2**32}), "bad_value"),
    "flags-8": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_FLAGS: 8}), "bad_value"),
    "unknown-model": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_MODEL: "groovae"}), "unknown_model"),
    "baseline-without-score": (P.GENERATE, lambda r, p: P.generate_args(r, p, "baseline"), "no_input"),
    "score-flag-without-hits": (
        P.GENERATE,
        lambda r, p: P.generate_args(r, p, "agvae2", score=np.zeros((32, 9))),
        "no_input",
    ),  # case 9
    "all-lanes-empty": (
        P.GENERATE,
        lambda r, p: P.generate_args(r, p, "agvae11", lane_modes=["empty"] * 9),
        "no_input",
    ),
    "factorized-empty-groove": (
        P.GENERATE,
        lambda r, p: P.generate_args(r, p, "factorized", groove=np.zeros((32, 3))),
        "no_input",
    ),
    "unknown-address": ("/bg/dance", lambda r, p: [r, p], "unknown_address"),
    "reply-address-sent-to-server": (P.DONE, lambda r, p: [r, p, 1, 2], "unknown_address"),
    "ping-extra-arg": (P.PING, lambda r, p: [r, p, 3], "bad_args"),
    "status-float-id": (P.STATUS, lambda r, p: [r + 0.5, p], "bad_args"),  # id unreadable: -1
    "oversize-ping": (P.PING, lambda r, p: [r, p, "x" * 9000], "bad_args"),
    "oversize-generate": (P.GENERATE, lambda r, p: edit(good(r, p), {P.A_MODEL: "m" * 9000}), "bad_args"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_request_gets_error_reply(name, client):
    address, make, code = BAD[name]
    rid = 1000 + list(BAD).index(name)
    args = make(rid, client.port)
    client.send(address, args)
    expect_rid = -1 if name == "status-float-id" else rid
    reply = client.wait(expect_rid)
    assert reply.error is not None and reply.error[0] == code, reply.error
    assert reply.done is None and reply.order == [P.ERROR]
    assert client.request(P.PING, [rid + 5000, client.port]).pong  # still serving


def test_float_and_unsigned_encodings_accepted(client, engine):
    score = X["score"].copy()
    score[31, 8] = 1  # bit 31: a negative int32, or an unsigned int64
    args = P.generate_args(1500, client.port, "factorized", score=score)
    for i in (P.A_VARIATIONS, P.A_SEED, P.A_FLAGS):
        args[i] = float(args[i])
    args[P.A_TEMPERATURE] = 1
    assert args[P.A_MASKS + 8] < 0
    args[P.A_MASKS + 8] &= 0xFFFFFFFF
    assert P.osc_type(args[P.A_MASKS + 8]) == "h"
    reply = client.request(P.GENERATE, args)
    assert_matches(reply, engine.generate(engine_request("factorized", dict(score=score))), 1)


GARBAGE = [
    b"",
    b"\x00",
    b"hello world",
    b"\xff" * 64,
    b"/bg/ping",
    b"/bg/ping\x00\x00\x00\x00,ii\x00\x00\x00",
    b"/bg/\xff\xfe\x00\x00,ii\x00" + b"\x00" * 8,
    b"#bundle\x00garbage",
    b"#bundle\x00" + b"\x00" * 8 + b"\x7f\xff",
    b"/bg/generate\x00\x00\x00\x00,iis\x00\x00\x00\x00\x00\x00\x01",
    P.encode(P.GENERATE, [1, 80, "agvae2"]),  # reply port out of range: nowhere to answer
    P.encode(P.GENERATE, ["x", "y"]),
    P.encode(P.PING, []),
]


def test_garbage_is_dropped_and_logged(client, caplog):
    caplog.set_level(logging.WARNING, logger="beatguide.osc")
    for g in GARBAGE:
        client.send_raw(g)
    # the receive thread answers in order: the pong is the very next reply, so nothing answered the garbage
    client.send(P.PING, [7, client.port])
    msg = client.recv(5)
    assert msg is not None and msg[0] == P.PONG and msg[1][0] == 7
    assert any("dropped" in r.getMessage() for r in caplog.records)


def test_out_of_range_reply_port_is_logged_as_such(engine, caplog):
    """Case 9: a ping with reply port 80 is dropped, and the log says why (not 'no reply port')."""
    caplog.set_level(logging.WARNING, logger="beatguide.osc")
    with OscServer(engine, port=0).start(warm_up=False) as srv, Client(srv.port) as c:
        c.send(P.PING, [1, 80])
        assert c.request(P.PING, [2, c.port]).pong
    assert any("reply port 80 is outside 1024-65535" in r.getMessage() for r in caplog.records)


def test_bundle_of_requests(client):
    b = OscBundleBuilder(IMMEDIATELY)
    for rid in (11, 12):
        b.add_content(OscMessage(P.encode(P.PING, [rid, client.port])))
    client.send_raw(b.build().dgram)
    assert client.wait(11).pong and client.wait(12).pong


def test_internal_error_is_answered(engine):
    class Boom:
        names, models, capabilities = engine.names, engine.models, engine.capabilities

        def generate(self, req):
            if req.seed == 666:
                raise RuntimeError("kaboom")
            return engine.generate(req)

    with OscServer(Boom(), port=0).start(warm_up=False) as srv, Client(srv.port) as c:
        r = c.generate("baseline", request_id=1, check=False, seed=666, score=X["score"])
        assert r.error[0] == "internal" and "kaboom" in r.error[1]
        assert c.generate("baseline", request_id=2, seed=1, score=X["score"]).done


def test_bug_in_receive_path_is_answered(engine, monkeypatch):
    with OscServer(engine, port=0).start(warm_up=False) as srv, Client(srv.port) as c:

        def broken(*a):
            raise KeyError("oops")

        monkeypatch.setattr(P, "pong", broken)
        r = c.request(P.PING, [5, c.port])
        assert r.error[0] == "internal" and "oops" in r.error[1]
        monkeypatch.undo()
        assert c.request(P.PING, [6, c.port]).pong


# -- fuzz ----------------------------------------------------------------------------------------

ANY = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-2, 40),
    st.floats(width=32),
    st.floats(-1.5, 1.5, width=32),
    st.text(max_size=6),
    st.binary(min_size=1, max_size=6),
    st.sampled_from(MODELS),
    st.just(""),
)


@pytest.fixture(scope="module")
def fuzz_client(server):
    with Client(server.port) as c:
        yield c


_fuzz_ids = iter(range(10_000, 10**9))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.lists(st.tuples(st.integers(2, P.GENERATE_ARGC - 1), ANY), max_size=4),
    length=st.sampled_from([P.GENERATE_ARGC] * 4 + [0, 2, 50, 92, 94]),
    address=st.sampled_from([P.GENERATE] * 6 + [P.PING, P.STATUS, "/bg/x", "/"]),
    junk=st.binary(max_size=40),
)
def test_fuzz_one_terminal_reply_each(fuzz_client, changes, length, address, junk):
    c = fuzz_client
    rid = next(_fuzz_ids)
    args = P.generate_args(rid, c.port, "agvae11", variations=1, score=X["score"], groove=X["groove"])
    for i, v in changes:
        args[i] = v
    args = (args + [0] * 5)[: max(length, 2)]
    c.send(address, args)
    c.send_raw(junk)  # random bytes: dropped (or, rarely valid OSC, answered somewhere harmless)
    reply = c.wait(rid, timeout=10)
    if reply.error:
        assert reply.error[0] in P.ERROR_CODES
    assert c.request(P.PING, [-rid, c.port]).pong  # still serving
    assert sum(a in (P.DONE, P.ERROR, P.PONG, P.STATUS) for a in reply.order) == 1


# -- load ----------------------------------------------------------------------------------------


def test_four_clients_250_requests_each(server, engine):
    clients, per_client, window = 4, 250, 4
    failures: list[str] = []
    replies: dict[int, tuple] = {}
    lock = threading.Lock()

    def run(k):
        base = (k + 1) * 100_000
        with Client(server.port) as c:
            outstanding, sent, terminals = set(), 0, {}
            while sent < per_client or outstanding:
                while sent < per_client and len(outstanding) < window:
                    rid = base + sent
                    c.send(
                        P.GENERATE,
                        P.generate_args(rid, c.port, MODELS[(sent + k) % 4], **load_kw(MODELS[(sent + k) % 4], rid)),
                    )
                    outstanding.add(rid)
                    sent += 1
                msg = c.recv(10)
                if msg is None:
                    failures.append(f"client {k}: timeout with {sorted(outstanding)} outstanding")
                    return
                rid = msg[1][0]
                if not base <= rid < base + per_client:
                    failures.append(f"client {k} got a reply for request {rid}")
                    continue
                r = c.replies.add(*msg)
                if msg[0] in (P.DONE, P.ERROR):
                    terminals[rid] = terminals.get(rid, 0) + 1
                    outstanding.discard(rid)
            extra = c.recv(0.2)
            if extra is not None:
                failures.append(f"client {k}: unexpected {extra[0]} after the last reply")
            for rid in range(base, base + per_client):
                r = c.replies.get(rid)
                if terminals.get(rid) != 1 or r.error or r.done[1] != r.total_notes:
                    failures.append(f"client {k} request {rid}: {terminals.get(rid)} terminal, {r.error}")
            with lock:
                for rid in range(base, base + per_client, 25):
                    replies[rid] = (c.replies.get(rid), MODELS[(rid - base + k) % 4])

    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures[:5]
    for rid, (reply, model) in replies.items():  # a sample, checked against the engine
        assert_matches(reply, engine.generate(engine_request(model, load_kw(model, rid))), 1)


def load_kw(model, rid):
    kw = dict(variations=1, seed=rid % 1000, score=X["score"])
    if model == "agvae11":
        kw["lane_modes"] = ["given"] * 9
    return kw


def test_busy_when_queue_full(engine):
    with OscServer(engine, port=0, threads=1, queue_size=1).start(warm_up=False) as srv, Client(srv.port) as c:
        rids = list(range(1, 41))
        datagrams = [
            P.encode(
                P.GENERATE,
                P.generate_args(rid, c.port, "agvae11", variations=8, seed=rid, score=X["score"], groove=X["groove"]),
            )
            for rid in rids
        ]
        for d in datagrams:
            c.send_raw(d)
        replies = [c.wait(rid, timeout=30) for rid in rids]
        time.sleep(0.2)
        c.send(P.STATUS, [99, c.port])
        status = c.wait(99).status
    done = [r for r in replies if r.done]
    busy = [r for r in replies if r.error]
    assert all(r.error[0] == "busy" for r in busy)
    assert len(done) + len(busy) == len(rids) and busy and done
    for r in replies:  # exactly one terminal reply each
        assert r.order.count(P.DONE) + r.order.count(P.ERROR) == 1
    assert status[:3] == [0, len(done), len(busy)]


# -- network policy ------------------------------------------------------------------------------


def test_is_loopback():
    assert is_loopback("127.0.0.1") and is_loopback("127.3.2.1") and is_loopback("::1")
    assert is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("192.168.1.5") and not is_loopback("10.0.0.1") and not is_loopback("bogus")


def lan_address() -> str | None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.254.254.254", 9))  # no packet is sent: this only picks the outgoing interface
        ip = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if is_loopback(ip) or ip == "0.0.0.0" else ip


def test_remote_datagrams_refused_unless_allowed(engine, caplog):
    ip = lan_address()
    if ip is None:
        pytest.skip("no non-loopback IPv4 address on this machine")
    caplog.set_level(logging.WARNING, logger="beatguide.osc")
    with OscServer(engine, "0.0.0.0", 0).start(warm_up=False) as srv:
        assert any("not loopback" in r.getMessage() for r in caplog.records)
        with Client(srv.port, host=ip, bind_host=ip) as remote:
            remote.send(P.PING, [1, remote.port])
            assert remote.recv(0.5) is None
        assert any("not from loopback" in r.getMessage() for r in caplog.records)
        with Client(srv.port) as local:
            assert local.request(P.PING, [2, local.port]).pong
    with OscServer(engine, "0.0.0.0", 0, allow_remote=True).start(warm_up=False) as srv:
        with Client(srv.port, host=ip, bind_host=ip) as remote:
            assert remote.request(P.PING, [3, remote.port]).pong  # answered at the sender's address


def test_port_in_use(engine):
    with OscServer(engine, port=0) as srv:
        with pytest.raises(BeatGuideError, match="cannot listen"):
            OscServer(engine, port=srv.port)
    with pytest.raises(BeatGuideError):
        OscServer(engine, port=0, queue_size=0)


# -- beatguide serve -----------------------------------------------------------------------------


def serve(*args, **kw):
    cmd = [sys.executable, "-m", "beatguide.cli", "serve", *map(str, args)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_serve_missing_models_exits_nonzero(tmp_path):
    p = serve("--models", tmp_path / "nothing", "--port", free_port())
    out, err = p.communicate(timeout=60)
    assert p.returncode == 2 and "no models" in err


def test_serve_corrupt_model_exits_nonzero(tmp_path, models):
    shutil.copytree(models / "baseline", tmp_path / "baseline")
    (tmp_path / "baseline" / "decoder.onnx").write_bytes(b"not an onnx file")
    p = serve("--models", tmp_path, "--port", free_port())
    out, err = p.communicate(timeout=60)
    assert p.returncode == 2 and "decoder.onnx" in err and "corrupt" in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_signal(models, sig):
    port = free_port()
    p = serve("--models", models, "--port", port, "--threads", 2)
    try:
        with Client(port) as c:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                c.send(P.PING, [1, c.port])
                msg = c.recv(0.5)
                if msg:
                    break
            assert msg and msg[0] == P.PONG
            assert c.generate("baseline", request_id=2, check=False, score=X["score"]).done
        p.send_signal(sig)
        out, err = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert "stopped" in err and "Traceback" not in err
