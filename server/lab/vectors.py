"""Protocol test vectors: requests and replies as Python builds and reads them, for the device's tests.

``test_vectors()`` returns JSON-able data: the device spec, /bg/generate requests (the inputs in
the device's terms: masks, lane mode names, groove values, and the argument list Python sends for
them) and reply sequences (the messages as they arrive over OSC, float32 values included, and what
:class:`~beatguide.protocol.ReplyAssembler` makes of them). The Node tests feed the same inputs and
messages to ``bg_core.js`` and check it agrees. ``python server/lab/vectors.py FILE`` writes them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from pythonosc.osc_message import OscMessage

from beatguide import protocol as P
from beatguide.drums import GM_PITCHES, N_CLASSES
from beatguide.engine import Result
from beatguide.gestures import read_notes
from beatguide.grid import HITS, OFFSETS, STEP_BEATS, STEPS, VELOCITIES, empty_loop
from beatguide.registry import AGVAE2, AGVAE11, BASELINE, FACTORIZED


def _request(
    name: str,
    rid: int,
    model: str,
    *,
    masks=None,
    modes=None,
    groove=None,
    accent_mask=None,
    latent_source: str = "prior",
    **kw,
) -> dict:
    """One request vector: the inputs in mask form, and the arguments ``generate_args`` sends for them."""
    score = None if masks is None else np.stack([P.mask_to_steps(m) for m in masks], axis=1)
    g = None
    if groove is not None:
        taps = P.mask_to_steps(groove["mask"])
        g = np.stack([taps, np.asarray(groove["velocities"]) * taps, np.asarray(groove["offsets"]) * taps], axis=1)
    accents = None if accent_mask is None else P.mask_to_steps(accent_mask)
    args = P.generate_args(
        rid,
        P.DEFAULT_REPLY_PORT,
        model,
        score=score,
        lane_modes=modes,
        groove=g,
        accents=accents,
        latent_source=latent_source,
        **kw,
    )
    inputs = {
        "request_id": rid,
        "reply_port": P.DEFAULT_REPLY_PORT,
        "model": model,
        "variations": kw.get("variations", 1),
        "temperature": kw.get("temperature", 1.0),
        "seed": kw.get("seed", 0),
        "score_seed": kw.get("score_seed", -1),
        "groove_seed": kw.get("groove_seed", -1),
        "latent_source": latent_source,
        "use_score": masks is not None,
        "use_groove": groove is not None,
        "use_accents": accent_mask is not None,
        "lane_masks": [P.to_int32(m) for m in (masks or [0] * N_CLASSES)],
        "lane_modes": [P.LANE_MODES[args[P.A_MODES + c]] for c in range(N_CLASSES)],
        "groove": {
            "mask": args[P.A_GROOVE_MASK],
            "velocities": args[P.A_VELOCITIES : P.A_OFFSETS],
            "offsets": args[P.A_OFFSETS : P.A_ACCENTS],
        },
        "accent_mask": args[P.A_ACCENTS],
        "bars": kw.get("bars", 2),
        "fill": args[P.A_FILL],
        "timing": kw.get("timing", 100.0),
        "velocity": kw.get("velocity", 100.0),
    }
    return {"name": name, "input": inputs, "args": args, "types": P.layout_types(P.GENERATE_LAYOUT)}


def requests() -> list[dict]:
    swing = {
        "mask": P.to_int32(0x55555555),
        "velocities": [0.5 + (s % 4) / 16 for s in range(STEPS)],
        "offsets": [0.25 if s % 4 == 2 else 0.0 for s in range(STEPS)],
    }
    four = [0x11111111, 0x10101010, 0x55555555] + [0] * 6
    return [
        _request("humanize", 7, AGVAE2.name, masks=four, variations=2, seed=42),
        _request(
            "bit 31 set, locked seeds",
            8,
            BASELINE.name,
            masks=[0x80000001] + [0] * 8,
            score_seed=5,
            groove_seed=2**31 - 1,
            temperature=0.75,
        ),
        _request(
            "every lane mode",
            9,
            AGVAE11.name,
            masks=four,
            modes=["given", "exact", "empty", "decide"] * 2 + ["exact"],
            groove=swing,
            accent_mask=0x01010101,
            variations=8,
            latent_source="bank",
        ),
        _request("groove only", 10, FACTORIZED.name, groove=swing, modes=["decide"] * 8 + ["empty"]),
        _request(
            "8-bar phrase, fill always, amounts",
            11,
            AGVAE2.name,
            masks=four,
            bars=8,
            fill="always",
            timing=37.5,
            velocity=150.0,
        ),
    ]


def _busy_loop(rng: np.random.Generator, density: float) -> np.ndarray:
    loop = empty_loop()
    loop[:, HITS] = rng.random((STEPS, N_CLASSES)) < density
    loop[:, VELOCITIES] = rng.integers(1, 128, (STEPS, N_CLASSES)) / 127.0
    loop[:, OFFSETS] = rng.uniform(-1, 1, (STEPS, N_CLASSES))
    loop[0, 0], loop[0, 9], loop[0, 18] = 1, 1.0, -1e-8  # a hair early on the downbeat: sent as 0.0
    loop[0, 2], loop[0, 11], loop[0, 20] = 1, 0.5, -0.5  # a quarter step early: wraps to 7.9375
    return loop


def _received(messages) -> list[list]:
    """Messages as they arrive: encoded, then parsed by python-osc (float32 values)."""
    out = []
    for address, args, types in messages:
        m = OscMessage(P.encode(address, args, types))
        out.append([m.address, list(m.params), types])
    return out


def _expect(reply: P.Reply, variations: int) -> dict:
    return {
        "variations": [
            {
                "notes": [list(n) for n in reply.variation_notes(v)],
                "aux_score": reply.aux_score.get(v),
                "aux_accents": reply.aux_accents.get(v),
                "aux_groove": None
                if v not in reply.aux_groove
                else dict(zip(("mask", "velocities", "offsets"), reply.aux_groove[v])),
            }
            for v in range(variations)
        ],
        "done": reply.done,
        "error": None if reply.error is None else list(reply.error),
        "pong": reply.pong,
        "models": reply.models,
        "status": reply.status,
    }


def _reply(name: str, rid: int, messages: list, variations: int = 0) -> dict:
    received = _received(messages)
    asm = P.ReplyAssembler()
    for address, args, _ in received:
        reply = asm.add(address, args)
    return {"name": name, "request_id": rid, "messages": received, "expect": _expect(reply, variations)}


def replies() -> list[dict]:
    rng = np.random.default_rng(13)
    n = 3
    loops = np.stack([_busy_loop(rng, 0.4), empty_loop(), _busy_loop(rng, 0.05)])  # 2nd: no notes at all
    score = (rng.random((n, STEPS, N_CLASSES)) < 0.2).astype(np.float32)
    score[:, 31, 8] = 1  # bit 31: a negative mask
    groove = np.stack([rng.random((n, STEPS)), rng.random((n, STEPS)), rng.uniform(-1.2, 1.2, (n, STEPS))], axis=2)
    accents = rng.random((n, STEPS)).astype(np.float32)
    full = Result(loops, {"score": score, "groove": groove.astype(np.float32), "accents": accents}, 5, 6, 2.5)
    msgs, total = P.result_messages(21, full)
    plain = Result(loops[:1], {}, 0, 2**31 - 1)
    plain_msgs, plain_total = P.result_messages(22, plain)
    phrase = Result(np.concatenate([loops[[0, 2]], loops[[2, 0]]], axis=1), {}, 1, 2)  # (2, 64, 27): 4 bars
    phrase_msgs, phrase_total = P.result_messages(26, phrase)
    caps = {
        AGVAE11.name: {
            "gestures": ["accents", "groove", "lanes"],
            "lane_modes": list(P.LANE_MODES),
            "latent_sources": list(P.LATENT_SOURCES),
            "aux": ["lanes", "groove", "accents"],
            "needs": "any",
        },
        BASELINE.name: {
            "gestures": ["score"],
            "lane_modes": list(P.LANE_MODES),
            "latent_sources": ["prior"],
            "aux": [],
            "needs": "score",
        },
    }
    return [
        _reply("three variations with aux readings", 21, msgs + P.done(21, n, total, 12.5, 5, 6), n),
        _reply("one variation, no aux", 22, plain_msgs + P.done(22, 1, plain_total, 1.25, 0, 2**31 - 1), 1),
        _reply("a 4-bar phrase", 26, phrase_msgs + P.done(26, 2, phrase_total, 3.0, 1, 2, 4), 2),
        _reply("error", 23, P.error(23, "no_input", f"{AGVAE2.name} needs a score, a groove, or both")),
        _reply("pong", 24, P.pong(24, caps)),
        _reply("status", 25, P.status(25, 1, 200, 3, 61.5)),
    ]


class _LiveNote:
    """A note as the device gets it from Live: pitch, start_time (beats), velocity, mute."""

    def __init__(self, pitch: int, start_time: float, velocity: float, mute: int = 0):
        self.pitch, self.start, self.velocity, self.mute = pitch, start_time, velocity, mute

    def as_dict(self) -> dict:
        return {"pitch": self.pitch, "start_time": self.start, "velocity": self.velocity, "mute": self.mute}


def _reading(name: str, notes: list[_LiveNote]) -> dict:
    r = read_notes(notes)
    return {
        "name": name,
        "notes": [n.as_dict() for n in notes],
        "score": [P.steps_to_mask(r.score[:, c]) for c in range(N_CLASSES)],
        "groove": {
            "mask": P.steps_to_mask(r.groove[:, 0]),
            "velocities": [float(v) for v in r.groove[:, 1]],
            "offsets": [float(v) for v in r.groove[:, 2]],
        },
        "accents": P.steps_to_mask(r.accents),
    }


MAPPED = sorted({p for pitches in GM_PITCHES for p in pitches})
UNMAPPED = [p for p in range(128) if p not in MAPPED]


def _random_clip(rng: np.random.Generator) -> list[_LiveNote]:
    """A clip built to hit the reading's edge cases: few velocities (ties, and a drum's louder hit
    exactly on mean + 1 sd), notes sharing cells, a hair or half a step around 0 and 8 beats,
    pitches outside the map, muted notes and fractional velocities."""
    notes = []
    for _ in range(int(rng.integers(0, 40))):
        pitch = int(rng.choice(MAPPED[:16] if rng.random() < 0.8 else UNMAPPED))
        where = rng.random()
        if where < 0.5:
            start = int(rng.integers(0, STEPS)) * STEP_BEATS
        elif where < 0.8:
            start = float(rng.uniform(0, 8))
        else:
            start = float(rng.choice([-0.2, -0.125, -0.1, -1e-9, 7.874, 7.875, 7.9, 7.999, 8.0, 8.1]))
        velocity = float(rng.choice([40, 64, 64, 100, 100, 127]))
        if rng.random() < 0.05:
            velocity += float(rng.choice([-0.5, 0.49, 0.99]))
        notes.append(_LiveNote(pitch, start, velocity, int(rng.random() < 0.1)))
    return notes


def readings(count: int = 2000, seed: int = 2021) -> list[dict]:
    """Named edge cases, then ``count`` random clips, each with what read_notes reads."""
    n = _LiveNote
    cases = [
        _reading("two hits: the louder exactly on mean + 1 sd is no accent", [n(36, 0, 64), n(36, 1, 100)]),
        _reading("the loudest of many is an accent", [n(42, i * 0.5, 60) for i in range(8)] + [n(42, 4.5, 120)]),
        _reading("groove tie across drums: the lowest class (kick) wins", [n(42, 0.06, 100), n(36, -0.03, 100)]),
        _reading("groove tie in a cell: the earlier note", [n(36, 0.05, 90), n(35, 0.01, 90)]),
        _reading("tie on velocity and time: the lower pitch", [n(38, 1.0, 80), n(37, 1.0, 80)]),
        _reading(
            "pitch outside the map: groove only, after every drum", [n(100, 0, 127), n(101, 1.0, 50), n(38, 1.02, 50)]
        ),
        _reading("a note just before 0 is an early first step", [n(36, -0.1, 100), n(38, -0.2, 100)]),
        _reading("a note just before 8 wraps to step 0, one at 8 is outside", [n(36, 7.9, 100), n(38, 8.0, 100)]),
        _reading("muted notes are not read", [n(36, 0, 100, 1), n(38, 1, 100)]),
        _reading("fractional velocities: their whole part", [n(36, 0, 100.9), n(36, 1, 100), n(36, 2, 0.5)]),
        _reading("an empty clip", []),
    ]
    rng = np.random.default_rng(seed)
    return cases + [_reading(f"random clip {i}", _random_clip(rng)) for i in range(count)]


def test_vectors() -> dict:
    """The device spec, request, reply and reading vectors (JSON-able)."""
    return {"spec": P.device_spec(), "requests": requests(), "replies": replies(), "readings": readings()}


test_vectors.__test__ = False  # a vector builder, not a pytest test


def write_vectors(path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(test_vectors()))
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python server/lab/vectors.py FILE.json")
    print(write_vectors(sys.argv[1]))
