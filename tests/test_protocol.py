"""The OSC protocol's pure functions: request decoding, reply encoding and chunking (no server, no models)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from beatguide import protocol as P
from beatguide.drums import N_CLASSES
from beatguide.engine import Result
from beatguide.errors import BeatGuideError
from beatguide.grid import STEPS, empty_loop
from conftest import reference_notes


def base_args(model="agvae2", **kw):
    score = np.zeros((STEPS, N_CLASSES))
    score[::4, 0] = 1
    score[4::8, 1] = 1
    kw.setdefault("score", score)
    return P.generate_args(7, 9011, model, **kw)


def code_of(args):
    with pytest.raises(BeatGuideError) as e:
        P.decode_generate(args)
    return e.value.code


def with_arg(args, i, v):
    args = list(args)
    args[i] = v
    return args


# -- conversions ---------------------------------------------------------------------------------


def test_int_and_float_are_interchangeable():
    assert P.as_int(3, "x", 0, 5) == 3
    assert P.as_int(3.0, "x", 0, 5) == 3
    assert P.as_float(2, "x", 0, 5) == 2.0
    assert isinstance(P.as_float(2, "x", 0, 5), float)


@pytest.mark.parametrize(
    "v,code",
    [
        (2.5, "bad_args"),
        ("3", "bad_args"),
        (b"3", "bad_args"),
        (True, "bad_args"),
        (None, "bad_args"),
        ([3], "bad_args"),
        (math.nan, "bad_value"),
        (math.inf, "bad_value"),
        (-math.inf, "bad_value"),
        (6, "bad_value"),
        (-1.0, "bad_value"),
    ],
)
def test_int_rejects(v, code):
    with pytest.raises(BeatGuideError) as e:
        P.as_int(v, "x", 0, 5)
    assert e.value.code == code


@pytest.mark.parametrize(
    "v,code",
    [
        ("1.0", "bad_args"),
        (False, "bad_args"),
        (math.nan, "bad_value"),
        (math.inf, "bad_value"),
        (1.5, "bad_value"),
        (2**2000, "bad_value"),
    ],
)
def test_float_rejects(v, code):
    with pytest.raises(BeatGuideError) as e:
        P.as_float(v, "x", 0.0, 1.0)
    assert e.value.code == code


def test_masks_signed_or_unsigned():
    assert P.as_mask(-1, "m") == 0xFFFFFFFF
    assert P.as_mask(0xFFFFFFFF, "m") == 0xFFFFFFFF
    assert P.as_mask(-(2**31), "m") == 0x80000000
    assert P.as_mask(float(0x80000000), "m") == 0x80000000
    for bad in (2**32, -(2**31) - 1):
        with pytest.raises(BeatGuideError) as e:
            P.as_mask(bad, "m")
        assert e.value.code == "bad_value"
    steps = P.mask_to_steps(0x80000001)
    assert steps.tolist() == [1.0] + [0.0] * 30 + [1.0]
    assert P.steps_to_mask(steps) == P.to_int32(0x80000001) == -(2**31) + 1


@given(st.integers(0, 2**32 - 1))
def test_mask_roundtrip(mask):
    assert P.steps_to_mask(P.mask_to_steps(mask)) & 0xFFFFFFFF == mask
    assert P.mask_to_steps(P.to_int32(mask)).tolist() == P.mask_to_steps(mask).tolist()


# -- /bg/generate decoding -----------------------------------------------------------------------


def test_decode_humanize():
    score = np.zeros((STEPS, N_CLASSES))
    score[::4, 0] = 1
    score[31, 8] = 1  # bit 31: the mask goes out negative
    args = P.generate_args(5, 9011, "factorized", variations=3, temperature=0.7, seed=11, score_seed=4, score=score)
    assert args[P.A_MASKS + 8] < 0
    m = P.decode_generate(args)
    assert (m.request_id, m.reply_port, m.flags) == (5, 9011, P.FLAG_SCORE)
    r = m.request
    assert (r.model, r.variations, r.seed, r.score_seed, r.groove_seed) == ("factorized", 3, 11, 4, None)
    assert r.temperature == pytest.approx(0.7)
    np.testing.assert_array_equal(r.score, score)
    assert r.groove is None and r.accents is None and r.lane_modes == ("given",) * N_CLASSES
    assert r.latent_source is None  # -1: the model's default


def test_decode_groove_and_accents():
    groove = np.zeros((STEPS, 3), np.float32)
    groove[::2, 0] = 1
    groove[::2, 1] = 0.5
    groove[2::4, 2] = 0.25
    accents = np.zeros(STEPS)
    accents[::8] = 1
    args = P.generate_args(1, 2000, "agvae2", groove=groove, accents=accents)
    # values on steps without a tap are ignored (zeroed)
    args[P.A_VELOCITIES + 1] = 0.9
    args[P.A_OFFSETS + 3] = -5.0
    m = P.decode_generate(args)
    assert m.request.score is None
    np.testing.assert_allclose(m.request.groove, groove)
    np.testing.assert_array_equal(m.request.accents, accents)


@pytest.mark.parametrize("model", ["agvae11", "agvae2", "baseline"])
def test_decode_lane_modes_for_every_model(model):
    score = np.ones((STEPS, N_CLASSES))
    modes = ["given", "empty", "decide", "exact"] * 2 + ["empty"]
    args = P.generate_args(1, 2000, model, score=score, lane_modes=modes, latent_source="bank")
    r = P.decode_generate(args).request
    assert r.lane_modes == tuple(modes) and r.latent_source == "bank"
    for source in ("prior", "fitted", None):
        a = P.generate_args(1, 2000, model, score=score, latent_source=source)
        assert a[P.A_LATENT_SOURCE] == (-1 if source is None else P.LATENT_SOURCES.index(source))
        assert P.decode_generate(a).request.latent_source == source
    np.testing.assert_array_equal(r.score, score)
    # without the score flag no score is sent: given and exact lanes are left to the model, empty stays empty
    args[P.A_FLAGS] = 0
    r = P.decode_generate(args).request
    assert r.score is None
    assert r.lane_modes == tuple("decide" if m in ("given", "exact") else m for m in modes)


def test_score_flag_without_hits_is_no_input():
    """Case 9: the score flag set and every mask zero is no_input, not an empty loop."""
    args = P.generate_args(1, 2000, "agvae2", score=np.zeros((STEPS, N_CLASSES)))
    assert args[P.A_FLAGS] == P.FLAG_SCORE
    assert code_of(args) == "no_input"


def test_decode_accepts_floats_for_ints_and_ints_for_floats():
    args = base_args()
    for i in (P.A_ID, P.A_PORT, P.A_VARIATIONS, P.A_SEED, P.A_FLAGS, P.A_MASKS, P.A_MODES):
        args[i] = float(args[i])
    args[P.A_TEMPERATURE] = 1
    args[P.A_VELOCITIES] = 1
    args[P.A_GROOVE_MASK] = 0xFFFFFFFF  # unsigned (would travel as int64)
    m = P.decode_generate(args)
    assert m.request_id == 7 and m.request.variations == 1 and m.request.temperature == 1.0


@pytest.mark.parametrize(
    "index,value,code",
    [
        (P.A_ID, "seven", "bad_args"),
        (P.A_ID, 2**31, "bad_value"),
        (P.A_PORT, 80, "bad_value"),
        (P.A_PORT, 70000, "bad_value"),
        (P.A_PORT, 9011.5, "bad_args"),
        (P.A_MODEL, 3, "bad_args"),
        (P.A_MODEL, b"agvae2", "bad_args"),
        (P.A_VARIATIONS, 0, "bad_value"),
        (P.A_VARIATIONS, 9, "bad_value"),
        (P.A_VARIATIONS, 1.5, "bad_args"),
        (P.A_VARIATIONS, "1", "bad_args"),
        (P.A_VARIATIONS, math.nan, "bad_value"),
        (P.A_TEMPERATURE, math.nan, "bad_value"),
        (P.A_TEMPERATURE, math.inf, "bad_value"),
        (P.A_TEMPERATURE, 0.0, "bad_value"),
        (P.A_TEMPERATURE, 3.5, "bad_value"),
        (P.A_TEMPERATURE, "hot", "bad_args"),
        (P.A_SEED, -1, "bad_value"),
        (P.A_SEED, 2**40, "bad_value"),
        (P.A_SCORE_SEED, -2, "bad_value"),
        (P.A_GROOVE_SEED, 1.25, "bad_args"),
        (P.A_FLAGS, 8, "bad_value"),
        (P.A_FLAGS, -1, "bad_value"),
        (P.A_LATENT_SOURCE, 3, "bad_value"),
        (P.A_LATENT_SOURCE, -2, "bad_value"),
        (P.A_LATENT_SOURCE, "bank", "bad_args"),
        (P.A_MASKS + 3, 2**32, "bad_value"),
        (P.A_MASKS, 0.5, "bad_args"),
        (P.A_MASKS + 8, math.inf, "bad_value"),
        (P.A_MODES, "given", "bad_args"),
        (P.A_MODES + 4, math.nan, "bad_value"),
        (P.A_MODES + 2, 4, "bad_value"),
        (P.A_MODES, -1, "bad_value"),
        (P.A_GROOVE_MASK, None, "bad_args"),
        (P.A_VELOCITIES + 31, math.nan, "bad_value"),
        (P.A_VELOCITIES + 1, -math.inf, "bad_value"),
        (P.A_OFFSETS + 31, math.inf, "bad_value"),
        (P.A_OFFSETS, True, "bad_args"),
        (P.A_VELOCITIES + 3, "0.5", "bad_args"),
        (P.A_ACCENTS, "x", "bad_args"),
        (P.A_ACCENTS, -(2**31) - 1, "bad_value"),
    ],
)
def test_decode_rejects(index, value, code):
    assert code_of(with_arg(base_args(), index, value)) == code


def groove_args(model="agvae2"):
    groove = np.zeros((STEPS, 3), np.float32)
    groove[::2, 0] = 1
    groove[::2, 1] = 0.5
    return P.generate_args(7, 9011, model, groove=groove, lane_modes=[0] * 9)


@pytest.mark.parametrize(
    "model,index,value,code",
    [
        ("agvae2", P.A_VELOCITIES + 4, 1.01, "bad_value"),
        ("agvae2", P.A_VELOCITIES, -0.1, "bad_value"),
        ("agvae2", P.A_OFFSETS + 2, -1.5, "bad_value"),
        ("agvae2", P.A_VELOCITIES + 5, 1.01, None),
        ("agvae2", P.A_OFFSETS + 3, -1e30, None),  # no tap: ignored
    ],
)
def test_ranges_checked_where_used(model, index, value, code):
    args = with_arg(groove_args(model), index, value)
    if code:
        assert code_of(args) == code
    else:
        g = P.decode_generate(args).request.groove
        assert np.all(np.abs(g) <= 1)


def test_groove_values_ignored_without_the_groove_flag():
    args = with_arg(base_args(), P.A_VELOCITIES + 4, 7.0)
    args[P.A_GROOVE_MASK] = -1
    assert P.decode_generate(args).request.groove is None


@pytest.mark.parametrize("n", [0, 1, 2, 93, 95, 200])
def test_decode_wrong_count(n):
    args = (base_args() * 3)[:n]
    assert code_of(args) == "bad_args"


@pytest.mark.parametrize(
    "f", [f for f in P.GENERATE_LAYOUT if None not in f.bounds and f.kind != P.TAPPED], ids=lambda f: f.name
)
def test_every_field_is_checked_as_its_table_entry_says(f):
    """The edges of a field's range (or names, or choices) decode; one past either is bad_value, the text naming the field."""
    i = P.layout_offsets(P.GENERATE_LAYOUT)[f.name]
    lo, hi = f.bounds
    for v in (lo, hi):
        P.decode_generate(with_arg(base_args(), i, v))
    for v in (lo - 1, hi + 1):
        with pytest.raises(BeatGuideError) as e:
            P.decode_generate(with_arg(base_args(), i, v))
        assert e.value.code == "bad_value" and str(e.value).startswith(f"arg {i} {f.label or f.name}: ")
    if f.choices:
        assert code_of(with_arg(base_args(), i, f.choices[0] + 1)) == "bad_value"


def test_generate_args_take_the_table_settings():
    assert P.generate_args(1, 9011, "agvae2", latent_source=None, score_seed=None, fill="auto", bars=2) == (
        P.generate_args(1, 9011, "agvae2")
    )
    args = P.generate_args(1, 9011, "agvae2", latent_source="fitted", lane_modes=["empty"] * N_CLASSES, fill=0)
    assert (args[P.A_LATENT_SOURCE], args[P.A_MODES : P.A_GROOVE_MASK], args[P.A_FILL]) == (2, [2] * N_CLASSES, 0)
    for wrong in ({"varations": 2}, {"flags": 1}, {"lane_masks": [0] * N_CLASSES}):
        with pytest.raises(TypeError):
            P.generate_args(1, 9011, "agvae2", **wrong)


def test_error_texts_are_fixed():
    """Texts name the field, never the value (Max keeps every symbol it sees)."""
    texts = set()
    for v in (9, 10, 11, 1e6):
        with pytest.raises(BeatGuideError) as e:
            P.decode_generate(with_arg(base_args(), P.A_VARIATIONS, v))
        texts.add(str(e.value))
    assert len(texts) == 1 and "variations" in texts.pop()


def test_read_header_is_lenient():
    assert P.read_header([]) == (None, None)
    assert P.read_header(["x"]) == (None, None)
    assert P.read_header([3, "x"]) == (3, None)
    assert P.read_header(["x", 9011]) == (None, 9011)
    assert P.read_header([3.0, 9011.0, "extra"]) == (3, 9011)
    assert P.read_header([math.nan, 80]) == (None, None)
    assert "outside 1024-65535" in P.reply_port_problem([1, 80])
    assert "not a reply port" in P.reply_port_problem([1, "x"])
    assert "fewer than 2" in P.reply_port_problem([1])
    assert P.decode_header([3, 9011]) == (3, 9011)
    with pytest.raises(BeatGuideError) as e:
        P.decode_header([3, 9011, 4])
    assert e.value.code == "bad_args"


ANY_VALUE = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-3, 300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-2, 2),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.booleans(),
    st.none(),
    st.sampled_from(["agvae11", "agvae2", "baseline", "factorized"]),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, P.GENERATE_ARGC - 1), ANY_VALUE), max_size=6),
    st.integers(P.GENERATE_ARGC - 2, P.GENERATE_ARGC + 1),
)
def test_decode_fuzz_only_protocol_errors(changes, length):
    args = base_args()
    for i, v in changes:
        args[i] = v
    args = (args + [0, 0])[:length]
    try:
        m = P.decode_generate(args)
    except BeatGuideError as e:
        assert e.code in P.ERROR_CODES
        assert len(str(e)) < P.MAX_TEXT
        return
    r = m.request
    assert 1 <= r.variations <= 8 and 0.05 <= r.temperature <= 3.0
    for a in (r.score, r.groove, r.accents):
        assert a is None or np.all(np.isfinite(a))


# -- replies -------------------------------------------------------------------------------------


def parse(datagram: bytes):
    m = OscMessage(datagram)
    return m.address, m.params


def test_encode_is_byte_identical_to_python_osc_builder():
    args = [7, -1, 2**40, 0.25, "agvae2", b"\x01\x02"]
    b = OscMessageBuilder("/bg/test")
    for a in args:
        b.add_arg(a)
    assert P.encode("/bg/test", args) == b.build().dgram
    assert parse(P.encode("/bg/test", args)) == ("/bg/test", args)


def full_loop(offset=0.0, velocity=0.5) -> np.ndarray:
    loop = empty_loop()
    loop[:, 0:9] = 1
    loop[:, 9:18] = velocity
    loop[:, 18:27] = offset
    return loop


def test_notes_chunks_within_limits():
    msgs, total = P.variation_messages(3, 2, full_loop(), {})
    assert total == STEPS * N_CLASSES == 288
    assert [m[0] for m in msgs] == [P.NOTES] * 5
    assert [m[1][2] for m in msgs] == [0, 1, 2, 3, 4]
    assert [(len(m[1]) - 3) // 4 for m in msgs] == [60, 60, 60, 60, 48]
    for address, args, types in msgs:
        d = P.encode(address, args, types)
        assert len(args) <= P.MAX_ARGS and len(d) <= P.MAX_BYTES
        a, back = parse(d)
        assert back[:2] == [3, 2]


def test_no_notes_no_message():
    msgs, total = P.variation_messages(3, 0, empty_loop(), {})
    assert msgs == [] and total == 0


def test_note_values():
    loop = empty_loop()
    loop[0, 0], loop[0, 9], loop[0, 18] = 1, 1.0, -1.0  # kick on step 0, half a step early: wraps to 7.875
    loop[4, 1], loop[4, 10], loop[4, 19] = 1, 0.5, 0.5  # snare on beat 1, a quarter step late
    loop[31, 8], loop[31, 17], loop[31, 26] = 1, 0.001, 1.0  # ride on the last step, late; velocity floors at 1
    loop[0, 3], loop[0, 12], loop[0, 21] = 1, 0.2, -1e-8  # so slightly early it rounds to 8.0: the downbeat, 0.0
    notes = P.loop_notes(loop)
    assert notes == [(3, 0.0, 0.25, 25), (1, 1.0625, 0.25, 64), (0, 7.875, 0.25, 127), (8, 7.875, 0.25, 1)]
    for cls, start, _dur, vel in notes:
        assert 0 <= start < 8 and 0 <= cls < 9 and 1 <= vel <= 127


SPECIAL_OFFSETS = np.array([-1, 1, 0, -1e-8, 1e-8, -1e-7, 0.5, -0.5, 0.999999, -0.999999], np.float32)


@given(st.integers(0, 2**31), st.floats(0.0, 1.0))
@settings(max_examples=200, deadline=None)
def test_loop_notes_equal_grid_loop_to_notes(seed, density):
    rng = np.random.default_rng(seed)
    loop = empty_loop()
    loop[:, 0:9] = rng.random((STEPS, 9)) < density
    loop[:, 9:18] = np.where(
        rng.random((STEPS, 9)) < 0.3, rng.integers(0, 255, (STEPS, 9)) / 254.0, rng.random((STEPS, 9))
    )  # k / 254: exact halves of a velocity step
    loop[:, 18:27] = np.where(
        rng.random((STEPS, 9)) < 0.3, rng.choice(SPECIAL_OFFSETS, (STEPS, 9)), rng.uniform(-1, 1, (STEPS, 9))
    )
    assert P.loop_notes(loop) == reference_notes(loop)


@given(st.integers(0, 2**32 - 1), st.floats(-1, 1, width=32), st.floats(0, 1, width=32))
@settings(max_examples=60, deadline=None)
def test_note_starts_always_in_window(mask, offset, velocity):
    loop = full_loop(offset, velocity)
    loop[:, 0:9] *= P.mask_to_steps(mask)[:, None]
    for _cls, start, _dur, vel in P.loop_notes(loop):
        assert 0.0 <= np.float32(start) < 8.0 and 1 <= vel <= 127


def test_aux_messages_and_result():
    n = 2
    loops = np.stack([full_loop()[None][0], empty_loop()])
    score = np.zeros((n, STEPS, N_CLASSES), np.float32)
    score[:, ::4, 0] = 0.9
    score[:, 31, 8] = 0.6
    groove = np.zeros((n, STEPS, 3), np.float32)
    groove[:, ::2, 0] = 0.8
    groove[:, :, 1] = 0.5
    groove[:, :, 2] = np.linspace(-1.5, 1.5, STEPS)  # clipped to [-1, 1]
    accents = np.zeros((n, STEPS), np.float32)
    accents[:, 0] = 0.7
    res = Result(loops, {"score": score, "groove": groove, "accents": accents}, 5, 6, 1.0)
    msgs, total = P.result_messages(9, res)
    assert total == 288
    assert [m[0] for m in msgs] == [P.NOTES] * 5 + [P.AUX_SCORE, P.AUX_GROOVE, P.AUX_ACCENTS] + [
        P.AUX_SCORE,
        P.AUX_GROOVE,
        P.AUX_ACCENTS,
    ]
    aux_score = msgs[5][1]
    assert aux_score[:2] == [9, 0] and len(aux_score) == 11
    assert aux_score[2] == 0x11111111 and aux_score[10] == -(2**31) and aux_score[3:10] == [0] * 7
    g = msgs[6][1]
    assert len(g) == 67 and g[2] == 0x55555555 and max(g[35:]) == 1.0 and min(g[35:]) == -1.0
    assert msgs[7][1] == [9, 0, 1]
    asm = P.ReplyAssembler()
    for address, args, types in msgs + P.done(9, 2, total, 3.5, 5, 6):
        d = P.encode(address, args, types)
        assert d == P.encode(address, args)  # the declared tags are the values' own types
        assert len(args) <= P.MAX_ARGS and len(d) <= P.MAX_BYTES
        rep = asm.add(*parse(d))
    assert rep.finished and rep.done[:2] == [2, 288] and rep.total_notes == 288
    assert rep.variation_notes(1) == [] and len(rep.variation_notes(0)) == 288
    assert rep.aux_accents == {0: 1, 1: 1}


def test_models_without_aux_send_only_notes():
    res = Result(np.stack([full_loop()]), {}, 1, 2)
    msgs, _ = P.result_messages(1, res)
    assert {m[0] for m in msgs} == {P.NOTES}


CAPS = {
    "agvae2": {
        "gestures": ["groove", "score"],
        "lane_modes": ["decide", "given", "empty", "exact"],
        "latent_sources": ["prior", "bank"],
        "aux": ["score", "groove"],
        "needs": "score_or_groove",
    },
    "baseline": {
        "gestures": ["score"],
        "lane_modes": ["decide", "given", "empty", "exact"],
        "latent_sources": ["prior"],
        "aux": [],
        "needs": "score",
    },
}


def test_pong_carries_capabilities():
    msg = P.pong(4, CAPS)[0]
    address, args = parse(P.encode(*msg))
    assert address == P.PONG and args[:3] == [4, P.PROTOCOL_VERSION, 2] and args[3] == "agvae2"
    assert args[3:9] == ["agvae2", 0b0011, 0b1111, 0b11, 0b0011, P.NEEDS.index("score_or_groove")]
    assert msg[2] == P.REPLY_SHAPES[P.PONG].types(2)
    reply = P.ReplyAssembler().add(address, args)
    assert {n: {k: sorted(v) if isinstance(v, list) else v for k, v in c.items()} for n, c in reply.models.items()} == {
        n: {k: sorted(v) if isinstance(v, list) else v for k, v in c.items()} for n, c in CAPS.items()
    }


def test_small_replies():
    address, args = parse(P.encode(*P.status(4, 1, 2, 3, 1.5)[0]))
    assert address == P.STATUS and args == [4, 1, 2, 3, 1.5]
    assert parse(P.encode(*P.error(None, "busy", "queue\nfull")[0])) == (P.ERROR, [-1, "busy", "queue full"])
    assert P.error(1, "made_up", "x")[0][1][1] == "internal"
    long_text = P.error(1, "internal", "x" * 10000)[0][1][2]
    assert len(long_text) == P.MAX_TEXT
    d = P.encode(*P.done(4, 8, 1000, 12.5, 2**31 - 1, 0, 8)[0])
    assert parse(d) == (P.DONE, [4, 8, 1000, 12.5, 2**31 - 1, 0, 8])


def test_replies_must_fit_their_shape():
    asm = P.ReplyAssembler()
    for address, args in (
        (P.DONE, [7, 2, 10, 3.5, 11, 12]),  # one short (protocol 3's)
        (P.NOTES, [7, 0, 0, 1, 0.5, 0.25]),  # a broken note
        (P.AUX_SCORE, [7, 0, *[0] * (N_CLASSES + 1)]),
        ("/bg/what", [7]),
    ):
        with pytest.raises(ValueError):
            asm.add(address, args)
    assert asm.add(P.STATUS, [7, 1, 2, 3, 0.5]).status == [1, 2, 3, 0.5]


def test_protocol_code_mapping():
    from beatguide.errors import InputError, ModelError, NoInputError, UnknownModelError

    assert P.protocol_code(InputError("x")) == "bad_value"
    assert P.protocol_code(NoInputError("x")) == "no_input"
    assert P.protocol_code(UnknownModelError("x")) == "unknown_model"
    assert P.protocol_code(ModelError("x")) == "internal"
    assert P.protocol_code(RuntimeError("x")) == "internal"
