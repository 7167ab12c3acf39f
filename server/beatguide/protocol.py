"""The Beat Guide OSC protocol, version 4 (docs/osc-protocol.md): its facts, and pure decode and encode functions.

Every fact the device shares with the server is written here once, as data: the argument layout of
``/bg/generate`` (:data:`GENERATE_LAYOUT`), the shape of every reply (:data:`REPLY_SHAPES`), flags,
lane modes, latent sources, capability names, default ports and limits. :func:`device_spec`
gathers them (with the grid and drum facts) into one JSON-able dict that ``m4l_device/build.py``
turns into the device's constants.

Server side: :func:`read_header` (lenient: request id and reply port, or None), :func:`decode_header`
and :func:`decode_generate` (strict: an argument list -> :class:`GenerateMessage` holding an
``engine.Request``, or a :class:`~beatguide.errors.BeatGuideError` whose ``code`` is the protocol's
error code), and the reply encoders (:func:`pong`, :func:`status`, :func:`error`,
:func:`variation_messages`, :func:`done`), which return ``(address, args, types)`` messages that
:func:`encode` turns into datagrams.

Client side (the device's half, used by the tests and the benchmark): :func:`generate_args` and
:class:`ReplyAssembler`.

Validation rules, beyond the protocol text:

- Groove velocities / offsets on steps without a tap (or with the groove flag clear) are not
  range-checked, but must still be finite numbers. Flags above bit 2 are ``bad_value``.
- An int where a float is expected, or a whole float where an int is expected, is accepted; a
  non-whole float for an int, a string, blob, bool or nil where a number is expected is ``bad_args``.
  NaN, infinity or an out-of-range number is ``bad_value``.
- Seeds and request ids must fit an int32 (they are echoed back as int32).
- Error texts are fixed per field and kind (no values in them): Max keeps every symbol it sees.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from . import amounts, grid
from .drums import CLASSES, DEFAULT_OUTPUT_PITCHES, GM_PITCHES, GMD_PITCHES, N_CLASSES, DrumMap
from .engine import (
    DEFAULT_SOURCES,
    LANE_MODES,
    LATENT_SOURCES,
    MAX_TEMPERATURE,
    MAX_VARIATIONS,
    MIN_TEMPERATURE,
    Request,
    Result,
    default_lane_mode,
)
from .errors import BeatGuideError, InputError, NoInputError
from .grid import HITS, LOOP_BEATS, NOTE_BEATS, OFFSETS, STEP_BEATS, STEPS, VELOCITIES, check_loop
from .phrases import FILL_MODES, PHRASE_BARS, Phrase
from .registry import KINDS

PROTOCOL_VERSION = 4  # 4: phrases and amounts (bars, fill, timing, velocity) in /bg/generate, bars in /bg/done

PING, PONG, STATUS = "/bg/ping", "/bg/pong", "/bg/status"
GENERATE, NOTES, DONE, ERROR = "/bg/generate", "/bg/notes", "/bg/done", "/bg/error"
AUX_SCORE, AUX_GROOVE, AUX_ACCENTS = "/bg/aux_score", "/bg/aux_groove", "/bg/aux_accents"

DEFAULT_SERVER_PORT = 9010  # beatguide serve listens here (and the device sends here) by default
DEFAULT_REPLY_PORT = 9011  # the device's udpreceive by default
MAX_ARGS = 256  # per reply message
MAX_BYTES = 8192  # per reply message; also the largest request datagram served
NOTES_PER_MESSAGE = 60
MIN_REPLY_PORT, MAX_REPLY_PORT = 1024, 65535
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
UINT32_MAX = 2**32 - 1
FLAG_SCORE, FLAG_GROOVE, FLAG_ACCENTS = 1, 2, 4
FLAGS = {"score": FLAG_SCORE, "groove": FLAG_GROOVE, "accents": FLAG_ACCENTS}
MAX_TEXT = 200  # characters of an error text
# Model capabilities travel in /bg/pong as bit sets over these names (bit i = name i).
GESTURES = ("score", "groove", "accents", "lanes")
NEEDS = ("score", "score_or_groove", "any")  # what a model needs at least, sent as an index


@dataclass(frozen=True)
class Field:
    """One argument (``count`` 1) or a run of ``count`` arguments of one OSC type ("i", "f", "s")."""

    name: str
    type: str
    count: int = 1


def layout_offsets(fields: Sequence[Field]) -> dict[str, int]:
    """{field name: index of its first argument}."""
    out, i = {}, 0
    for f in fields:
        out[f.name] = i
        i += f.count
    return out


def layout_types(fields: Sequence[Field]) -> str:
    return "".join(f.type * f.count for f in fields)


# Argument layout of /bg/generate.
GENERATE_LAYOUT = (
    Field("request_id", "i"),
    Field("reply_port", "i"),
    Field("model", "s"),
    Field("variations", "i"),
    Field("temperature", "f"),
    Field("seed", "i"),
    Field("score_seed", "i"),
    Field("groove_seed", "i"),
    Field("flags", "i"),
    Field("latent_source", "i"),
    Field("lane_masks", "i", N_CLASSES),
    Field("lane_modes", "i", N_CLASSES),
    Field("groove_mask", "i"),
    Field("groove_velocities", "f", STEPS),
    Field("groove_offsets", "f", STEPS),
    Field("accent_mask", "i"),
    Field("bars", "i"),
    Field("fill", "i"),
    Field("timing", "f"),
    Field("velocity", "f"),
)
GENERATE_ARGC = len(layout_types(GENERATE_LAYOUT))  # 98
OLD_GENERATE_ARGC = {94: 3}  # argument counts of earlier protocols' /bg/generate: their version
_A = layout_offsets(GENERATE_LAYOUT)
A_ID, A_PORT, A_MODEL, A_VARIATIONS, A_TEMPERATURE = (
    _A[k] for k in ("request_id", "reply_port", "model", "variations", "temperature")
)
A_SEED, A_SCORE_SEED, A_GROOVE_SEED, A_FLAGS, A_LATENT_SOURCE = (
    _A[k] for k in ("seed", "score_seed", "groove_seed", "flags", "latent_source")
)
A_MASKS, A_MODES, A_GROOVE_MASK, A_VELOCITIES, A_OFFSETS, A_ACCENTS = (
    _A[k] for k in ("lane_masks", "lane_modes", "groove_mask", "groove_velocities", "groove_offsets", "accent_mask")
)
A_BARS, A_FILL, A_TIMING, A_VELOCITY = (_A[k] for k in ("bars", "fill", "timing", "velocity"))


@dataclass(frozen=True)
class Shape:
    """A reply message: fixed fields, then ``repeat`` (a group of fields) up to ``max_repeats`` times."""

    address: str
    fields: tuple
    repeat: tuple = ()
    max_repeats: int = 0

    def types(self, repeats: int = 0) -> str:
        return layout_types(self.fields) + layout_types(self.repeat) * repeats


NOTE_FIELDS = (Field("class", "i"), Field("start", "f"), Field("duration", "f"), Field("velocity", "i"))
NOTE_ARGS = len(NOTE_FIELDS)
MODEL_FIELDS = (
    Field("name", "s"),
    Field("gestures", "i"),
    Field("lane_modes", "i"),
    Field("latent_sources", "i"),
    Field("aux", "i"),
    Field("needs", "i"),
)
REPLY_SHAPES = {
    s.address: s
    for s in (
        Shape(
            PONG,
            (Field("request_id", "i"), Field("protocol_version", "i"), Field("model_count", "i")),
            MODEL_FIELDS,
            (MAX_ARGS - 3) // len(MODEL_FIELDS),
        ),
        Shape(
            STATUS,
            (
                Field("request_id", "i"),
                Field("queued", "i"),
                Field("served", "i"),
                Field("errors", "i"),
                Field("uptime_s", "f"),
            ),
        ),
        Shape(
            NOTES,
            (Field("request_id", "i"), Field("variation", "i"), Field("chunk", "i")),
            NOTE_FIELDS,
            NOTES_PER_MESSAGE,
        ),
        Shape(AUX_SCORE, (Field("request_id", "i"), Field("variation", "i"), Field("lane_masks", "i", N_CLASSES))),
        Shape(
            AUX_GROOVE,
            (
                Field("request_id", "i"),
                Field("variation", "i"),
                Field("mask", "i"),
                Field("velocities", "f", STEPS),
                Field("offsets", "f", STEPS),
            ),
        ),
        Shape(AUX_ACCENTS, (Field("request_id", "i"), Field("variation", "i"), Field("mask", "i"))),
        Shape(
            DONE,
            (
                Field("request_id", "i"),
                Field("variations", "i"),
                Field("total_notes", "i"),
                Field("elapsed_ms", "f"),
                Field("score_seed", "i"),
                Field("groove_seed", "i"),
                Field("bars", "i"),
            ),
        ),
        Shape(ERROR, (Field("request_id", "i"), Field("code", "s"), Field("text", "s"))),
    )
}

ERROR_CODES = ("bad_args", "bad_value", "unknown_model", "no_input", "busy", "unknown_address", "internal")
CLASS_MAP = DrumMap(output_pitches=tuple(range(N_CLASSES)))  # notes carry the drum class as "pitch"
_BITS = np.arange(STEPS, dtype=np.uint64)


class BadArgsError(BeatGuideError):
    """Wrong argument count, or an argument whose type cannot be converted."""

    code = "bad_args"


class BusyError(BeatGuideError):
    """The request queue is full."""

    code = "busy"


class UnknownAddressError(BeatGuideError):
    """An OSC address the server does not serve."""

    code = "unknown_address"


class InternalError(BeatGuideError):
    """A bug."""

    code = "internal"


def protocol_code(exc: BaseException) -> str:
    """The protocol's error code for an exception: its ``code`` when the protocol knows it, else internal."""
    code = getattr(exc, "code", None)
    return code if code in ERROR_CODES else "internal"


# --------------------------------------------------------------------------------------------
# Argument conversion


def _number(v, what: str):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise BadArgsError(f"{what}: expected a number")
    return v


def as_int(v, what: str, lo: int, hi: int) -> int:
    """An int argument: an int, or a whole float; NaN, infinite or outside [lo, hi] is bad_value."""
    v = _number(v, what)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not math.isfinite(v):
            raise InputError(f"{what}: NaN or infinite")
        if not v.is_integer():
            raise BadArgsError(f"{what}: expected an int (a float must be a whole number)")
    v = int(v)
    if not lo <= v <= hi:
        raise InputError(f"{what}: must be {lo} to {hi}")
    return v


def as_float(v, what: str, lo: float, hi: float) -> float:
    """A float argument: an int or a float; NaN, infinite or outside [lo, hi] is bad_value."""
    v = _number(v, what)
    try:
        v = float(v)
    except OverflowError:  # an int too large for a double
        raise InputError(f"{what}: must be {lo:g} to {hi:g}") from None
    if not math.isfinite(v):
        raise InputError(f"{what}: NaN or infinite")
    if not lo <= v <= hi:
        raise InputError(f"{what}: must be {lo:g} to {hi:g}")
    return v


def as_mask(v, what: str) -> int:
    """A 32-bit step mask, sent signed (int32) or unsigned: returned unsigned, 0 .. 2**32-1."""
    return as_int(v, what, INT32_MIN, UINT32_MAX) & UINT32_MAX


def mask_to_steps(mask: int) -> np.ndarray:
    """(32,) float32 of 0/1: bit s -> step s."""
    return ((np.uint64(mask & UINT32_MAX) >> _BITS) & np.uint64(1)).astype(np.float32)


def steps_to_mask(steps) -> int:
    """A (32,) truthy array -> the step mask as a signed int32 (what OSC 'i' carries)."""
    bits = np.asarray(steps).reshape(STEPS).astype(bool)
    mask = int((bits.astype(np.uint64) << _BITS).sum())
    return mask - 2**32 if mask > INT32_MAX else mask


def to_int32(mask: int) -> int:
    """An unsigned or signed 32-bit mask as a signed int32."""
    mask &= UINT32_MAX
    return mask - 2**32 if mask > INT32_MAX else mask


# --------------------------------------------------------------------------------------------
# Requests


@dataclass
class GenerateMessage:
    """A decoded /bg/generate: who to answer and what to generate."""

    request_id: int
    reply_port: int
    request: Request
    flags: int = 0
    phrase: Phrase = field(default_factory=Phrase)


def read_header(args: Sequence) -> tuple[int | None, int | None]:
    """Request id and reply port of any request, leniently: None for what cannot be read. Never raises."""
    rid = port = None
    try:
        rid = as_int(args[0], "request_id", INT32_MIN, INT32_MAX)
    except Exception:
        pass
    try:
        port = as_int(args[1], "reply_port", MIN_REPLY_PORT, MAX_REPLY_PORT)
    except Exception:
        pass
    return rid, port


def reply_port_problem(args: Sequence) -> str:
    """Why :func:`read_header` found no reply port in ``args``, for the log."""
    if len(args) < 2:
        return "no reply port (fewer than 2 arguments)"
    try:
        as_int(args[1], "reply_port", MIN_REPLY_PORT, MAX_REPLY_PORT)
    except InputError:
        return f"reply port {repr(args[1])[:40]} is outside {MIN_REPLY_PORT}-{MAX_REPLY_PORT}"
    except BeatGuideError:
        return f"2nd argument {repr(args[1])[:40]} is not a reply port (an int)"
    return "reply port readable"


def decode_header(args: Sequence, address: str = PING) -> tuple[int, int]:
    """The two arguments of /bg/ping and /bg/status, strictly."""
    if len(args) != 2:
        raise BadArgsError(f"{address} takes 2 arguments (request_id, reply_port)")
    return (
        as_int(args[0], "request_id", INT32_MIN, INT32_MAX),
        as_int(args[1], "reply_port", MIN_REPLY_PORT, MAX_REPLY_PORT),
    )


def decode_generate(args: Sequence) -> GenerateMessage:
    """A /bg/generate argument list -> GenerateMessage; raises a BeatGuideError with a protocol code.

    Lane modes apply to every model. With flags bit 0 clear no score is sent: lanes marked given
    or exact are then left to the model (decide), empty lanes stay empty. Bit 0 set with no hit in
    any lane is ``no_input``: a score must hold a hit.
    """
    if len(args) in OLD_GENERATE_ARGC:
        raise BadArgsError(
            f"/bg/generate takes {GENERATE_ARGC} arguments in protocol {PROTOCOL_VERSION}; this request has "
            f"protocol {OLD_GENERATE_ARGC[len(args)]}'s layout: update the client (rebuild the device)"
        )
    if len(args) != GENERATE_ARGC:
        raise BadArgsError(f"/bg/generate takes {GENERATE_ARGC} arguments")
    rid = as_int(args[A_ID], "arg 0 request_id", INT32_MIN, INT32_MAX)
    port = as_int(args[A_PORT], "arg 1 reply_port", MIN_REPLY_PORT, MAX_REPLY_PORT)
    model = args[A_MODEL]
    if not isinstance(model, str):
        raise BadArgsError("arg 2 model: expected a string")
    variations = as_int(args[A_VARIATIONS], "arg 3 variations", 1, MAX_VARIATIONS)
    temperature = as_float(args[A_TEMPERATURE], "arg 4 temperature", MIN_TEMPERATURE, MAX_TEMPERATURE)
    seed = as_int(args[A_SEED], "arg 5 seed", 0, INT32_MAX)
    score_seed = as_int(args[A_SCORE_SEED], "arg 6 score_seed", -1, INT32_MAX)
    groove_seed = as_int(args[A_GROOVE_SEED], "arg 7 groove_seed", -1, INT32_MAX)
    flags = as_int(args[A_FLAGS], "arg 8 flags", 0, FLAG_SCORE | FLAG_GROOVE | FLAG_ACCENTS)
    source = as_int(args[A_LATENT_SOURCE], "arg 9 latent_source", -1, len(LATENT_SOURCES) - 1)
    masks = [as_mask(args[A_MASKS + c], f"arg {A_MASKS + c} lane mask") for c in range(N_CLASSES)]
    modes = [
        LANE_MODES[as_int(args[A_MODES + c], f"arg {A_MODES + c} lane mode", 0, len(LANE_MODES) - 1)]
        for c in range(N_CLASSES)
    ]
    groove_mask = as_mask(args[A_GROOVE_MASK], f"arg {A_GROOVE_MASK} groove mask")
    # velocities and offsets: finite numbers everywhere, in range where a given groove has a tap
    taps = mask_to_steps(groove_mask) if flags & FLAG_GROOVE else np.zeros(STEPS, np.float32)
    vels = _groove_values(args, A_VELOCITIES, taps, "groove velocity", 0.0)
    offs = _groove_values(args, A_OFFSETS, taps, "groove offset", -1.0)
    accent_mask = as_mask(args[A_ACCENTS], f"arg {A_ACCENTS} accent mask")
    bars = as_int(args[A_BARS], f"arg {A_BARS} bars", min(PHRASE_BARS), max(PHRASE_BARS))
    if bars not in PHRASE_BARS:
        raise InputError(f"arg {A_BARS} bars: must be one of {', '.join(map(str, PHRASE_BARS))}")
    fill = FILL_MODES[as_int(args[A_FILL], f"arg {A_FILL} fill", 0, len(FILL_MODES) - 1)]
    timing = as_float(args[A_TIMING], f"arg {A_TIMING} timing", amounts.MIN, amounts.MAX)
    velocity = as_float(args[A_VELOCITY], f"arg {A_VELOCITY} velocity", amounts.MIN, amounts.MAX)

    score = None
    if flags & FLAG_SCORE:
        if not any(masks):
            raise NoInputError("the score flag is set but no lane holds a hit")
        score = np.stack([mask_to_steps(m) for m in masks], axis=1)  # (32, 9)
    else:
        modes = ["decide" if m in ("given", "exact") else m for m in modes]
    groove = np.stack([taps, vels, offs], axis=1) if flags & FLAG_GROOVE else None
    accents = mask_to_steps(accent_mask) if flags & FLAG_ACCENTS else None
    req = Request(
        model=model,
        variations=variations,
        temperature=temperature,
        seed=seed,
        score_seed=None if score_seed == -1 else score_seed,
        groove_seed=None if groove_seed == -1 else groove_seed,
        score=score,
        lane_modes=tuple(modes),
        groove=groove,
        accents=accents,
        latent_source=None if source == -1 else LATENT_SOURCES[source],
    )
    return GenerateMessage(rid, port, req, flags, Phrase(bars, fill, timing, velocity))


def _groove_values(args: Sequence, first: int, taps: np.ndarray, what: str, lo: float) -> np.ndarray:
    """32 groove values: finite numbers, in [lo, 1] on steps with a tap, zeroed elsewhere."""
    out = np.zeros(STEPS, np.float32)
    for s in range(STEPS):
        lo_s, hi_s = (lo, 1.0) if taps[s] else (-math.inf, math.inf)
        v = as_float(args[first + s], f"arg {first + s} {what}", lo_s, hi_s)
        out[s] = v if taps[s] else 0.0
    return out


# --------------------------------------------------------------------------------------------
# Replies

Message = tuple  # (address: str, args: list, types: str): one OSC type tag per argument


def _text(text) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def bits(names: Iterable[str], vocabulary: Sequence[str]) -> int:
    """A bit set: bit i for ``vocabulary[i]`` among ``names`` (names outside the vocabulary are left out)."""
    return sum(1 << vocabulary.index(n) for n in set(names) if n in vocabulary)


def bit_names(mask: int, vocabulary: Sequence[str]) -> list[str]:
    return [n for i, n in enumerate(vocabulary) if mask >> i & 1]


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
    names = sorted(models)[: REPLY_SHAPES[PONG].max_repeats]
    args = [int(request_id), PROTOCOL_VERSION, len(names)]
    for name in names:
        args += model_args(name, models[name])
    return [(PONG, args, REPLY_SHAPES[PONG].types(len(names)))]


def status(request_id: int, queued: int, served: int, errors: int, uptime_s: float) -> list[Message]:
    clip = lambda n: int(min(max(n, 0), INT32_MAX))  # noqa: E731
    args = [int(request_id), clip(queued), clip(served), clip(errors), float(uptime_s)]
    return [(STATUS, args, REPLY_SHAPES[STATUS].types())]


def error(request_id: int | None, code: str, text) -> list[Message]:
    if code not in ERROR_CODES:
        code = "internal"
    return [(ERROR, [-1 if request_id is None else int(request_id), code, _text(text)], REPLY_SHAPES[ERROR].types())]


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
    msgs = []
    for chunk, i in enumerate(range(0, len(notes), NOTES_PER_MESSAGE)):
        args = [int(request_id), int(variation), chunk]
        part = notes[i : i + NOTES_PER_MESSAGE]
        for note in part:
            args.extend(note)
        msgs.append((NOTES, args, REPLY_SHAPES[NOTES].types(len(part))))
    return msgs


def variation_messages(request_id: int, variation: int, loop: np.ndarray, aux: dict) -> tuple[list[Message], int]:
    """The messages of one variation (notes, then aux_score / aux_groove / aux_accents when the model
    has them) and its note count. ``aux`` holds this variation's arrays: "score" (32, 9) probabilities,
    "groove" (32, 3) hit probability / velocity / offset, "accents" (32,) probabilities."""
    notes = loop_notes(loop)
    msgs = notes_messages(request_id, variation, notes)
    if "score" in aux:
        hits = (np.asarray(aux["score"]) > 0.5).astype(np.uint64)  # (32, 9)
        masks = [to_int32(int(m)) for m in (hits << _BITS[:, None]).sum(axis=0)]
        msgs.append((AUX_SCORE, [int(request_id), int(variation)] + masks, REPLY_SHAPES[AUX_SCORE].types()))
    if "groove" in aux:
        g = np.nan_to_num(np.asarray(aux["groove"], np.float32))
        vel = np.clip(g[:, 1], 0.0, 1.0).tolist()
        off = np.clip(g[:, 2], -1.0, 1.0).tolist()
        msgs.append(
            (
                AUX_GROOVE,
                [int(request_id), int(variation), steps_to_mask(g[:, 0] > 0.5)] + vel + off,
                REPLY_SHAPES[AUX_GROOVE].types(),
            )
        )
    if "accents" in aux:
        mask = steps_to_mask(np.asarray(aux["accents"]) > 0.5)
        msgs.append((AUX_ACCENTS, [int(request_id), int(variation), mask], REPLY_SHAPES[AUX_ACCENTS].types()))
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
    args = [int(request_id), int(variations), int(total_notes), float(elapsed_ms), int(score_seed), int(groove_seed)]
    return [(DONE, [*args, int(bars)], REPLY_SHAPES[DONE].types())]


# --------------------------------------------------------------------------------------------
# Datagrams (python-osc's type writers; byte-identical to OscMessageBuilder, ~8x faster)


@cache
def _writers() -> dict:
    """python-osc's type writers, imported when the first datagram is written, so the protocol's facts
    (``device_spec``, which builds the device) need numpy alone."""
    from pythonosc.parsing import osc_types as t

    return {
        "i": t.write_int,
        "f": t.write_float,
        "s": t.write_string,
        "h": t.write_int64,
        "d": t.write_double,
        "b": t.write_blob,
    }


def osc_type(v) -> str:
    """The OSC type tag a Python value is sent as (int32 where it fits)."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError("bools are not sent")
    if isinstance(v, (int, np.integer)):
        return "i" if INT32_MIN <= int(v) <= INT32_MAX else "h"
    if isinstance(v, (float, np.floating)):
        return "f"
    if isinstance(v, str):
        return "s"
    if isinstance(v, (bytes, bytearray)):
        return "b"
    raise TypeError(f"cannot send a {type(v).__name__} over OSC")


def encode(address: str, args: Sequence, types: str | None = None) -> bytes:
    """One OSC message datagram. ``types`` (one tag per arg) overrides the guessed types."""
    if types is None:
        types = "".join([osc_type(a) for a in args])
    elif len(types) != len(args):
        raise ValueError("one type tag per argument")
    w = _writers()
    return b"".join([w["s"](address), w["s"]("," + types)] + [w[t](a) for t, a in zip(types, args)])


def encode_all(messages: Iterable[Message]) -> list[bytes]:
    return [encode(*m) for m in messages]


# --------------------------------------------------------------------------------------------
# Client side: building a request, assembling the replies


def generate_args(
    request_id: int,
    reply_port: int,
    model: str,
    *,
    variations: int = 1,
    temperature: float = 1.0,
    seed: int = 0,
    score_seed: int = -1,
    groove_seed: int = -1,
    score=None,
    lane_modes=None,
    groove=None,
    accents=None,
    latent_source=None,
    bars: int = grid.BARS,
    fill="auto",
    timing: float = amounts.FULL,
    velocity: float = amounts.FULL,
) -> list:
    """The arguments of a /bg/generate. ``score`` (32, 9) hits or None; ``lane_modes`` nine of
    LANE_MODES, as names or indices (default: ``engine.default_lane_mode``);
    ``groove`` (32, 3) hit/velocity/offset or None; ``accents`` (32,) or None; ``latent_source``
    a name or index of LATENT_SOURCES, or None for the model's default; ``bars`` of PHRASE_BARS,
    ``fill`` a name or index of FILL_MODES, ``timing`` / ``velocity`` amounts in percent. Masks go
    out signed."""
    flags = 0
    masks = [0] * N_CLASSES
    if score is not None:
        flags |= FLAG_SCORE
        s = np.asarray(score) > 0.5
        masks = [steps_to_mask(s[:, c]) for c in range(N_CLASSES)]
    if lane_modes is None:
        lane_modes = [default_lane_mode(score is not None)] * N_CLASSES
    modes = [LANE_MODES.index(m) if isinstance(m, str) else int(m) for m in lane_modes]
    if latent_source is None:
        source = -1
    else:
        source = LATENT_SOURCES.index(latent_source) if isinstance(latent_source, str) else int(latent_source)
    gmask, vels, offs = 0, [0.0] * STEPS, [0.0] * STEPS
    if groove is not None:
        flags |= FLAG_GROOVE
        g = np.asarray(groove, np.float32)
        taps = g[:, 0] > 0.5
        gmask = steps_to_mask(taps)
        vels = np.where(taps, g[:, 1], 0.0).astype(float).tolist()
        offs = np.where(taps, g[:, 2], 0.0).astype(float).tolist()
    amask = 0
    if accents is not None:
        flags |= FLAG_ACCENTS
        amask = steps_to_mask(np.asarray(accents) > 0.5)
    return (
        [
            int(request_id),
            int(reply_port),
            str(model),
            int(variations),
            float(temperature),
            int(seed),
            int(score_seed),
            int(groove_seed),
            flags,
            source,
        ]
        + masks
        + modes
        + [gmask]
        + vels
        + offs
        + [amask, int(bars), FILL_MODES.index(fill) if isinstance(fill, str) else int(fill), float(timing)]
        + [float(velocity)]
    )


@dataclass
class Reply:
    """Everything received for one request id."""

    request_id: int
    notes: dict = field(default_factory=dict)  # variation -> {chunk: [(class, start, dur, vel), ...]}
    aux_score: dict = field(default_factory=dict)  # variation -> [mask x9]
    aux_groove: dict = field(default_factory=dict)  # variation -> (mask, [vel x32], [off x32])
    aux_accents: dict = field(default_factory=dict)  # variation -> mask
    done: list | None = None  # [variations, total_notes, elapsed_ms, score_seed, groove_seed, bars]
    error: tuple | None = None  # (code, text)
    pong: list | None = None  # [protocol_version, model_count, (name, gestures, lane_modes, ...) ...]
    status: list | None = None
    order: list = field(default_factory=list)  # addresses in arrival order

    @property
    def finished(self) -> bool:
        return any(x is not None for x in (self.done, self.error, self.pong, self.status))

    def variation_notes(self, v: int) -> list[tuple]:
        chunks = self.notes.get(v, {})
        return [n for c in sorted(chunks) for n in chunks[c]]

    @property
    def models(self) -> dict:
        """{name: capabilities} from a /bg/pong, capabilities as lists of names (as model.json says them)."""
        n = len(MODEL_FIELDS)
        groups = [self.pong[2 + i * n : 2 + (i + 1) * n] for i in range(self.pong[1])] if self.pong else []
        return {
            g[0]: {
                "gestures": bit_names(g[1], GESTURES),
                "lane_modes": bit_names(g[2], LANE_MODES),
                "latent_sources": bit_names(g[3], LATENT_SOURCES),
                "aux": bit_names(g[4], GESTURES),
                "needs": NEEDS[g[5]],
            }
            for g in groups
        }

    @property
    def total_notes(self) -> int:
        return sum(len(n) for chunks in self.notes.values() for n in chunks.values())


class ReplyAssembler:
    """Sorts reply messages by request id. ``add`` returns the Reply a message belongs to."""

    def __init__(self):
        self.replies: dict[int, Reply] = {}

    def get(self, request_id: int) -> Reply:
        if request_id not in self.replies:
            self.replies[request_id] = Reply(request_id)
        return self.replies[request_id]

    def add(self, address: str, args: Sequence) -> Reply:
        if not args or not isinstance(args[0], int):
            raise ValueError(f"malformed reply {address} {list(args)[:4]}")
        r = self.get(args[0])
        r.order.append(address)
        if address == NOTES:
            v, chunk, flat = args[1], args[2], list(args[3:])
            if len(flat) % NOTE_ARGS or len(flat) > NOTES_PER_MESSAGE * NOTE_ARGS:
                raise ValueError("a /bg/notes with a broken note list")
            r.notes.setdefault(v, {})[chunk] = [tuple(flat[i : i + NOTE_ARGS]) for i in range(0, len(flat), NOTE_ARGS)]
        elif address == AUX_SCORE:
            r.aux_score[args[1]] = list(args[2:])
        elif address == AUX_GROOVE:
            r.aux_groove[args[1]] = (args[2], list(args[3 : 3 + STEPS]), list(args[3 + STEPS :]))
        elif address == AUX_ACCENTS:
            r.aux_accents[args[1]] = args[2]
        elif address == DONE:
            r.done = list(args[1:])
        elif address == ERROR:
            r.error = (args[1], args[2])
        elif address == PONG:
            r.pong = list(args[1:])
        elif address == STATUS:
            r.status = list(args[1:])
        else:
            raise ValueError(f"unknown reply address {address}")
        return r


# --------------------------------------------------------------------------------------------
# The facts the device shares, as data


def _fields(fields: Sequence[Field]) -> list[dict]:
    offsets = layout_offsets(fields)
    return [{"name": f.name, "type": f.type, "count": f.count, "index": offsets[f.name]} for f in fields]


def device_spec() -> dict:
    """Every fact the device shares with the server, as JSON-able data (``m4l_device/build.py`` writes
    the device's constants from it): protocol version, addresses, the /bg/generate layout, reply
    shapes, flags, lane modes, latent sources, capability names, model kinds, error codes, ports, limits,
    the grid and the drum classes and pitch maps."""
    return {
        "protocol_version": PROTOCOL_VERSION,
        "addresses": {
            "ping": PING,
            "pong": PONG,
            "status": STATUS,
            "generate": GENERATE,
            "notes": NOTES,
            "aux_score": AUX_SCORE,
            "aux_groove": AUX_GROOVE,
            "aux_accents": AUX_ACCENTS,
            "done": DONE,
            "error": ERROR,
        },
        "generate": {"argc": GENERATE_ARGC, "types": layout_types(GENERATE_LAYOUT), "fields": _fields(GENERATE_LAYOUT)},
        "replies": {
            s.address: {"fields": _fields(s.fields), "repeat": _fields(s.repeat), "max_repeats": s.max_repeats}
            for s in REPLY_SHAPES.values()
        },
        "flags": dict(FLAGS),
        "lane_modes": list(LANE_MODES),
        "default_lane_mode": default_lane_mode(score_given=True),  # a new device's lanes (sent without a score: decide)
        "latent_sources": list(LATENT_SOURCES),
        "default_latent_sources": list(DEFAULT_SOURCES),
        "gestures": list(GESTURES),
        "needs": list(NEEDS),
        "model_kinds": [{"name": k.name, "title": k.title} for k in KINDS.values()],
        "error_codes": list(ERROR_CODES),
        "ports": {
            "server": DEFAULT_SERVER_PORT,
            "reply": DEFAULT_REPLY_PORT,
            "reply_min": MIN_REPLY_PORT,
            "reply_max": MAX_REPLY_PORT,
        },
        "phrase": {
            "bars": list(PHRASE_BARS),
            "fill_modes": list(FILL_MODES),
            "default_fill": Phrase().fill,
            "amount": [amounts.MIN, amounts.FULL, amounts.MAX],
        },
        "limits": {
            "variations": [1, MAX_VARIATIONS],
            "temperature": [MIN_TEMPERATURE, MAX_TEMPERATURE],
            "seed": [0, INT32_MAX],
            "max_args": MAX_ARGS,
            "max_bytes": MAX_BYTES,
            "notes_per_message": NOTES_PER_MESSAGE,
            "max_text": MAX_TEXT,
        },
        "grid": {
            "steps": STEPS,
            "steps_per_beat": grid.STEPS_PER_BEAT,
            "beats_per_bar": grid.BEATS_PER_BAR,
            "bars": grid.BARS,
            "loop_beats": LOOP_BEATS,
            "step_beats": STEP_BEATS,
            "note_beats": NOTE_BEATS,
        },
        "classes": list(CLASSES),
        "pitches": {
            "gm_input": [list(p) for p in GM_PITCHES],
            "gmd_input": [list(p) for p in GMD_PITCHES],
            "output": list(DEFAULT_OUTPUT_PITCHES),
        },
    }
