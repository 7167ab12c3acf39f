"""Typical inputs and requests for the benchmarks and tests: a demo score, groove and accents, and
the tasks each model is benchmarked on, chosen by its capabilities (never by its name)."""

from __future__ import annotations

import numpy as np

from .drums import CLASSES, N_CLASSES
from .grid import STEPS


def demo_inputs(seed: int = 0) -> dict:
    """A score (kick 4-on-the-floor, snare on 2 and 4, closed hats on 8ths), a swung groove, accents."""
    score = np.zeros((STEPS, N_CLASSES), np.float32)
    score[::4, 0] = 1
    score[4::8, 1] = 1
    score[::2, 2] = 1
    groove = np.zeros((STEPS, 3), np.float32)
    groove[::2, 0] = 1
    groove[::2, 1] = np.random.default_rng(seed).uniform(0.4, 1.0, 16)
    groove[2::4, 2] = 0.3
    accents = np.zeros(STEPS, np.float32)
    accents[::8] = 1
    return {"score": score, "groove": groove, "accents": accents}


# the lane-model task: kick and snare given, hats decided, toms and crash empty, ride decided
DEMO_LANES = dict(zip(CLASSES, ("given", "given", "decide", "decide", "empty", "empty", "empty", "empty", "decide")))


def tasks(capabilities: dict) -> dict:
    """{task name: Request keyword arguments} a model with these capabilities is benchmarked on:
    humanize (a score), taps alone (the tap reader's path) and score + groove when it reads a groove,
    and with lanes taps alone and every gesture. The richest task comes last."""
    x = demo_inputs()
    gestures = set(capabilities["gestures"])
    taps = {"taps alone": {"groove": x["groove"]}} if "groove" in gestures else {}
    if "lanes" in gestures:
        return {
            **taps,
            "lanes+groove+accents": {
                "score": x["score"],
                "lane_modes": tuple(DEMO_LANES.values()),
                "groove": x["groove"],
                "accents": x["accents"],
            },
        }
    out = {"humanize": {"score": x["score"]}, **taps}
    if "groove" in gestures:
        out["score+groove"] = {"score": x["score"], "groove": x["groove"]}
    return out
