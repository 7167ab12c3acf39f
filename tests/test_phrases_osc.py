"""Phrases and amounts over the protocol: /bg/generate's new fields, /bg/done's bars, a real server."""

from __future__ import annotations

import numpy as np
import pytest

from beatguide import phrases
from beatguide import protocol as P
from beatguide.client import Client, ServerError
from beatguide.engine import Engine, Request
from beatguide.errors import BeatGuideError
from beatguide.grid import loop_to_notes
from beatguide.osc_server import OscServer
from conftest import drum_score, reference_notes


def args(**kw) -> list:
    return P.generate_args(5, P.DEFAULT_REPLY_PORT, "agvae2", score=drum_score(), **kw)


def test_the_layout_ends_with_the_phrase_fields_and_the_version_says_so():
    assert P.PROTOCOL_VERSION == 4
    names = [f.name for f in P.GENERATE_LAYOUT][-4:]
    assert names == ["bars", "fill", "timing", "velocity"] and P.GENERATE_ARGC == 98
    assert [f.name for f in P.REPLY_SHAPES[P.DONE].fields][-1] == "bars"
    spec = P.device_spec()["phrase"]
    assert spec == {"bars": [2, 4, 8], "fill_modes": ["off", "auto", "always"], "default_fill": "auto",
                    "amount": [0.0, 100.0, 150.0]}  # fmt: skip


def test_decode_reads_the_phrase_and_defaults_to_todays_loop():
    msg = P.decode_generate(args())
    assert msg.phrase == phrases.Phrase(2, "auto", 100.0, 100.0)
    msg = P.decode_generate(args(bars=8, fill="always", timing=0, velocity=150))
    assert msg.phrase == phrases.Phrase(8, "always", 0.0, 150.0)


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("bars", 3, "bad_value"),
        ("bars", 16, "bad_value"),
        ("bars", 4.5, "bad_args"),
        ("fill", 3, "bad_value"),
        ("timing", 150.01, "bad_value"),
        ("timing", -1, "bad_value"),
        ("velocity", float("nan"), "bad_value"),
        ("velocity", "loud", "bad_args"),
    ],
)
def test_bad_phrase_fields_get_the_protocol_codes(field, value, code):
    a = args()
    a[{"bars": P.A_BARS, "fill": P.A_FILL, "timing": P.A_TIMING, "velocity": P.A_VELOCITY}[field]] = value
    with pytest.raises(BeatGuideError) as e:
        P.decode_generate(a)
    assert P.protocol_code(e.value) == code


def test_an_old_client_is_told_to_update():
    with pytest.raises(P.BadArgsError, match=r"protocol 3's layout: update the client \(rebuild the device\)"):
        P.decode_generate(args()[:94])


def test_phrase_notes_span_the_phrase_and_agree_with_the_grid():
    loop = np.zeros((128, 27), np.float32)
    loop[[0, 40, 127], 0] = 1
    loop[[0, 40, 127], 9] = 0.5
    loop[[0, 40, 127], 18] = [-0.5, 0.25, 0.9]  # an early downbeat wraps to the phrase's end
    notes = P.loop_notes(loop)
    assert [n[1] for n in notes] == [10.03125, pytest.approx(31.8625), 31.9375]
    assert [(n.pitch, n.start) for n in loop_to_notes(loop, P.CLASS_MAP)] == [(c, s) for c, s, _, _ in notes]


@pytest.fixture(scope="module")
def engine(models_dir):
    return Engine(models_dir)


@pytest.fixture(scope="module")
def client(engine):
    with OscServer(engine, port=0).start(warm_up=False) as srv, Client(srv.port) as c:
        yield c


@pytest.mark.parametrize(
    "bars, fill, timing, velocity", [(4, "always", 100, 100), (8, "auto", 40, 130), (2, "off", 0, 0)]
)
def test_a_real_server_sends_the_phrase_the_engine_makes(engine, client, bars, fill, timing, velocity):
    reply = client.generate(
        "agvae2", variations=2, seed=3, score=drum_score(), bars=bars, fill=fill, timing=timing, velocity=velocity
    )
    want = phrases.generate(
        engine, Request("agvae2", 2, 1.0, 3, score=drum_score()), phrases.Phrase(bars, fill, timing, velocity)
    )
    assert reply.done[-1] == bars
    for v in range(2):
        got = reply.variation_notes(v)
        assert (
            got == reference_notes(want.loops[v])
            if bars == 2
            else got == [tuple(n) for n in P.loop_notes(want.loops[v])]
        )
        assert all(0 <= n[1] < bars * 4 for n in got)
    if bars == 8:
        assert max(n[1] for n in reply.variation_notes(0)) > 16, "notes reach the last bars"


def test_full_amounts_over_osc_are_todays_output_bit_for_bit(engine, client):
    reply = client.generate("factorized", variations=3, seed=11, score=drum_score(), timing=100, velocity=100)
    loops = engine.generate(Request("factorized", 3, 1.0, 11, score=drum_score())).loops
    for v in range(3):
        assert reply.variation_notes(v) == reference_notes(loops[v])


def test_a_bad_phrase_gets_an_error_reply(client):
    with pytest.raises(ServerError) as e:
        client.generate("agvae2", score=drum_score(), bars=6)
    assert e.value.code == "bad_value"
    assert client.generate("agvae2", score=drum_score(), bars=4).done[-1] == 4, "the server keeps serving"
