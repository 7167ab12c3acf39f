"""The server's replies, each built from its shape in :data:`~.spec.REPLY_SHAPES`.

Every function returns ``(address, args, types)`` messages, which :func:`~.codec.encode` turns
into datagrams.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import grid
from ..drums import N_CLASSES, DrumMap
from ..engine import Result
from ..grid import HITS, NOTE_BEATS, OFFSETS, STEP_BEATS, VELOCITIES, check_loop
from ..vocabulary import LANE_MODES, LATENT_SOURCES
from .codec import Message, bits, lane_masks, pack_reply, steps_to_mask
from .spec import (
    AUX_ACCENTS,
    AUX_GROOVE,
    AUX_SCORE,
    DONE,
    ERROR,
    ERROR_CODES,
    GESTURES,
    INT32_MAX,
    MAX_TEXT,
    NEEDS,
    NOTES,
    NOTES_PER_MESSAGE,
    PONG,
    PROTOCOL_VERSION,
    REPLY_SHAPES,
    STATUS,
)
from .validation import protocol_code

CLASS_MAP = DrumMap(output_pitches=tuple(range(N_CLASSES)))  # notes carry the drum class as "pitch"


def _text(text) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def model_args(name: str, capabilities: dict) -> list:
    """A model's group of /bg/pong arguments: name, then its capabilities as bit sets and an index."""
    return [
        str(name),
        bits(capabilities["gestures"], GESTURES),
        bits(capabilities["lane_modes"], LANE_MODES),
        bits(capabilities["latent_sources"], LATENT_SOURCES),
        bits(capabilities["aux"], GESTURES),
        NEEDS.index(capabilities["needs"]),
    ]


def pong(request_id: int, models: dict) -> list[Message]:
    """/bg/pong for ``models`` ({name: capabilities}), in name order."""
    shape = REPLY_SHAPES[PONG]
    names = sorted(models)[: shape.max_repeats]
    head = {"request_id": request_id, "protocol_version": PROTOCOL_VERSION, "model_count": len(names)}
    return [pack_reply(shape, head, [model_args(name, models[name]) for name in names])]


def status(request_id: int, queued: int, served: int, errors: int, uptime_s: float) -> list[Message]:
    clip = lambda n: min(max(n, 0), INT32_MAX)  # noqa: E731
    counts = {"queued": clip(queued), "served": clip(served), "errors": clip(errors)}
    return [pack_reply(REPLY_SHAPES[STATUS], {"request_id": request_id, **counts, "uptime_s": uptime_s})]


def error(request_id: int | None, code: str, text) -> list[Message]:
    values = {
        "request_id": -1 if request_id is None else request_id,
        "code": code if code in ERROR_CODES else "internal",
        "text": _text(text),
    }
    return [pack_reply(REPLY_SHAPES[ERROR], values)]


def error_from(request_id: int | None, exc: BaseException) -> list[Message]:
    return error(request_id, protocol_code(exc), str(exc) or type(exc).__name__)


def loop_notes(loop: np.ndarray) -> list[tuple[int, float, float, int]]:
    """Notes of one (32, 27) loop (or a (32 k, 27) phrase) as (class, start, duration, velocity), sorted
    by (start, class).

    The same notes as ``grid.loop_to_notes(loop, CLASS_MAP)`` (early step-0 notes wrap to the loop's
    end), computed on whole arrays: the per-note loop costs ~2 ms for a busy loop, this ~0.1 ms
    (tests/test_protocol.py checks that both agree). A start that rounds to the loop's length (8.0
    for 2 bars) is the loop's downbeat and is sent as 0.0, so every start lies in [0, length) as a float32.
    """
    loop = check_loop(loop)
    loop_beats = np.float32(len(loop) * STEP_BEATS)
    steps, classes = np.nonzero(loop[:, HITS] > 0.5)
    if not len(steps):
        return []
    # the float32 arithmetic of loop_to_notes: (step + offset / 2) * 0.25, + 8 when negative, round to 6
    start = (steps.astype(np.float32) + loop[:, OFFSETS][steps, classes] / np.float32(2.0)) * np.float32(STEP_BEATS)
    start = np.where(start < 0, start + loop_beats, start)
    start = np.round(start, 6).astype(np.float32)
    start = np.where(start >= loop_beats, np.maximum(start - loop_beats, np.float32(0.0)), start)
    vel = np.clip(np.rint(loop[:, VELOCITIES][steps, classes].astype(np.float64) * 127), 1, 127).astype(np.int64)
    order = np.lexsort((classes, start))
    dur = float(np.float32(NOTE_BEATS))
    return [(c, s, dur, v) for c, s, v in zip(classes[order].tolist(), start[order].tolist(), vel[order].tolist())]


def notes_messages(request_id: int, variation: int, notes: Sequence[tuple]) -> list[Message]:
    """/bg/notes chunks (60 notes, 243 args each at most); none for no notes."""
    return [
        pack_reply(
            REPLY_SHAPES[NOTES],
            {"request_id": request_id, "variation": variation, "chunk": chunk},
            notes[i : i + NOTES_PER_MESSAGE],
        )
        for chunk, i in enumerate(range(0, len(notes), NOTES_PER_MESSAGE))
    ]


def variation_messages(request_id: int, variation: int, loop: np.ndarray, aux: dict) -> tuple[list[Message], int]:
    """The messages of one variation (notes, then aux_score / aux_groove / aux_accents when the model
    has them) and its note count. ``aux`` holds this variation's arrays: "score" (32, 9) probabilities,
    "groove" (32, 3) hit probability / velocity / offset, "accents" (32,) probabilities."""
    notes = loop_notes(loop)
    msgs = notes_messages(request_id, variation, notes)
    head = {"request_id": request_id, "variation": variation}
    if "score" in aux:
        masks = lane_masks(np.asarray(aux["score"]) > 0.5)  # (32, 9) -> 9 masks
        msgs.append(pack_reply(REPLY_SHAPES[AUX_SCORE], {**head, "lane_masks": masks}))
    if "groove" in aux:
        g = np.nan_to_num(np.asarray(aux["groove"], np.float32))
        groove = {
            "mask": steps_to_mask(g[:, 0] > 0.5),
            "velocities": np.clip(g[:, 1], 0.0, 1.0).tolist(),
            "offsets": np.clip(g[:, 2], -1.0, 1.0).tolist(),
        }
        msgs.append(pack_reply(REPLY_SHAPES[AUX_GROOVE], {**head, **groove}))
    if "accents" in aux:
        mask = steps_to_mask(np.asarray(aux["accents"]) > 0.5)
        msgs.append(pack_reply(REPLY_SHAPES[AUX_ACCENTS], {**head, "mask": mask}))
    return msgs, len(notes)


def result_messages(request_id: int, result: Result) -> tuple[list[Message], int]:
    """Every variation's messages, in order, and the total note count (the /bg/done is sent apart,
    once its elapsed time is known)."""
    msgs, total = [], 0
    for v in range(len(result.loops)):
        m, n = variation_messages(request_id, v, result.loops[v], {k: a[v] for k, a in result.aux.items()})
        msgs += m
        total += n
    return msgs, total


def done(
    request_id: int,
    variations: int,
    total_notes: int,
    elapsed_ms: float,
    score_seed: int,
    groove_seed: int,
    bars: int = grid.BARS,
) -> list[Message]:
    values = {
        "request_id": request_id,
        "variations": variations,
        "total_notes": total_notes,
        "elapsed_ms": elapsed_ms,
        "score_seed": score_seed,
        "groove_seed": groove_seed,
        "bars": bars,
    }
    return [pack_reply(REPLY_SHAPES[DONE], values)]
