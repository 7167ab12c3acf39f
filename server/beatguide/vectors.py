"""Protocol test vectors: requests and replies as Python builds and reads them, for the device's tests.

``test_vectors()`` returns JSON-able data: the device spec, /bg/generate requests (the inputs in
the device's terms: masks, lane mode names, groove values, and the argument list Python sends for
them) and reply sequences (the messages as they arrive over OSC, float32 values included, and what
:class:`~beatguide.protocol.ReplyAssembler` makes of them). The Node tests feed the same inputs and
messages to ``bg_core.js`` and check it agrees. ``python -m beatguide.vectors FILE`` writes them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from pythonosc.osc_message import OscMessage

from . import protocol as P
from .drums import N_CLASSES
from .engine import Result
from .grid import HITS, OFFSETS, STEPS, VELOCITIES, empty_loop


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
        _request("humanize", 7, "agvae2", masks=four, variations=2, seed=42),
        _request(
            "bit 31 set, locked seeds",
            8,
            "baseline",
            masks=[0x80000001] + [0] * 8,
            score_seed=5,
            groove_seed=2**31 - 1,
            temperature=0.75,
        ),
        _request(
            "every lane mode",
            9,
            "agvae11",
            masks=four,
            modes=["given", "exact", "empty", "decide"] * 2 + ["exact"],
            groove=swing,
            accent_mask=0x01010101,
            variations=8,
            latent_source="bank",
        ),
        _request("groove only", 10, "factorized", groove=swing, modes=["decide"] * 8 + ["empty"]),
        _request(
            "8-bar phrase, fill always, amounts",
            11,
            "agvae2",
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
        "agvae11": {
            "gestures": ["accents", "groove", "lanes"],
            "lane_modes": list(P.LANE_MODES),
            "latent_sources": list(P.LATENT_SOURCES),
            "aux": ["lanes", "groove", "accents"],
            "needs": "any",
        },
        "baseline": {
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
        _reply("error", 23, P.error(23, "no_input", "agvae2 needs a score, a groove, or both")),
        _reply("pong", 24, P.pong(24, caps)),
        _reply("status", 25, P.status(25, 1, 200, 3, 61.5)),
    ]


def test_vectors() -> dict:
    """The device spec, request vectors and reply vectors (JSON-able)."""
    return {"spec": P.device_spec(), "requests": requests(), "replies": replies()}


test_vectors.__test__ = False  # a vector builder, not a pytest test


def write_vectors(path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(test_vectors(), indent=1))
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m beatguide.vectors FILE.json")
    print(write_vectors(sys.argv[1]))
