"""The Beat Guide OSC protocol, version 1 (docs/osc-protocol.md): pure decode and encode functions.

Server side: :func:`read_header` (lenient: request id and reply port, or None), :func:`decode_header`
and :func:`decode_generate` (strict: an argument list -> :class:`GenerateMessage` holding an
``engine.Request``, or a :class:`~beatguide.errors.BeatGuideError` whose ``code`` is the protocol's
error code), and the reply encoders (:func:`pong`, :func:`status`, :func:`error`,
:func:`variation_messages`, :func:`done`), which return ``(address, args)`` messages that
:func:`encode` turns into datagrams.

Client side (the device's half, used by the tests and the benchmark): :func:`generate_args` and
:class:`ReplyAssembler`.

Validation rules, beyond the protocol text:

- What the protocol says is ignored is not range-checked, but must still be a finite number: lane
  modes for models without lanes, groove velocities / offsets on steps without a tap (or with the
  groove flag clear). Flags above bit 2 are ``bad_value``.
- An int where a float is expected, or a whole float where an int is expected, is accepted; a
  non-whole float for an int, a string, blob, bool or nil where a number is expected is ``bad_args``.
  NaN, infinity or an out-of-range number is ``bad_value``.
- Seeds and request ids must fit an int32 (they are echoed back as int32).
- Error texts are fixed per field and kind (no values in them): Max keeps every symbol it sees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
from pythonosc.parsing import osc_types

from .drums import N_CLASSES, DrumMap
from .engine import LANE_MODES, MAX_TEMPERATURE, MAX_VARIATIONS, MIN_TEMPERATURE, Request, Result
from .errors import BeatGuideError, InputError
from .grid import HITS, LOOP_BEATS, NOTE_BEATS, STEP_BEATS, STEPS, check_loop

PROTOCOL_VERSION = 1

PING, PONG, STATUS = "/bg/ping", "/bg/pong", "/bg/status"
GENERATE, NOTES, DONE, ERROR = "/bg/generate", "/bg/notes", "/bg/done", "/bg/error"
AUX_SCORE, AUX_GROOVE, AUX_ACCENTS = "/bg/aux_score", "/bg/aux_groove", "/bg/aux_accents"

MAX_ARGS = 256  # per reply message
MAX_BYTES = 8192  # per reply message; also the largest request datagram served
NOTES_PER_MESSAGE = 60
NOTE_ARGS = 4  # class, start, duration, velocity
GENERATE_ARGC = 93
MIN_REPLY_PORT, MAX_REPLY_PORT = 1024, 65535
INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1
UINT32_MAX = 2 ** 32 - 1
FLAG_SCORE, FLAG_GROOVE, FLAG_ACCENTS = 1, 2, 4
MAX_TEXT = 200  # characters of an error text

# Argument layout of /bg/generate.
A_ID, A_PORT, A_MODEL, A_VARIATIONS, A_TEMPERATURE, A_SEED, A_SCORE_SEED, A_GROOVE_SEED, A_FLAGS = range(9)
A_MASKS = 9
A_MODES = A_MASKS + N_CLASSES  # 18
A_GROOVE_MASK = A_MODES + N_CLASSES  # 27
A_VELOCITIES = A_GROOVE_MASK + 1  # 28
A_OFFSETS = A_VELOCITIES + STEPS  # 60
A_ACCENTS = A_OFFSETS + STEPS  # 92
assert A_ACCENTS + 1 == GENERATE_ARGC

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
    return mask - 2 ** 32 if mask > INT32_MAX else mask


def to_int32(mask: int) -> int:
    """An unsigned or signed 32-bit mask as a signed int32."""
    mask &= UINT32_MAX
    return mask - 2 ** 32 if mask > INT32_MAX else mask


# --------------------------------------------------------------------------------------------
# Requests


@dataclass
class GenerateMessage:
    """A decoded /bg/generate: who to answer and what to generate."""

    request_id: int
    reply_port: int
    request: Request
    flags: int = 0


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


def decode_header(args: Sequence, address: str = PING) -> tuple[int, int]:
    """The two arguments of /bg/ping and /bg/status, strictly."""
    if len(args) != 2:
        raise BadArgsError(f"{address} takes 2 arguments (request_id, reply_port)")
    return (as_int(args[0], "request_id", INT32_MIN, INT32_MAX),
            as_int(args[1], "reply_port", MIN_REPLY_PORT, MAX_REPLY_PORT))


def decode_generate(args: Sequence, lane_models: Iterable[str] = ("agvae11",)) -> GenerateMessage:
    """A /bg/generate argument list -> GenerateMessage; raises a BeatGuideError with a protocol code.

    ``lane_models`` names the models that take the score lane by lane (through the lane modes);
    for the others the score is given by flags bit 0 and the lane modes are ignored.
    """
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
    lanes = model in set(lane_models)
    masks = [as_mask(args[A_MASKS + c], f"arg {A_MASKS + c} lane mask") for c in range(N_CLASSES)]
    # lane modes: 0-2 for a lane model; other models ignore them (any int)
    mode_lo, mode_hi = (0, len(LANE_MODES) - 1) if lanes else (-(2 ** 63), 2 ** 63 - 1)
    modes = [as_int(args[A_MODES + c], f"arg {A_MODES + c} lane mode", mode_lo, mode_hi) for c in range(N_CLASSES)]
    groove_mask = as_mask(args[A_GROOVE_MASK], f"arg {A_GROOVE_MASK} groove mask")
    # velocities and offsets: finite numbers everywhere, in range where a given groove has a tap
    taps = mask_to_steps(groove_mask) if flags & FLAG_GROOVE else np.zeros(STEPS, np.float32)
    vels, offs = [], []
    for s in range(STEPS):
        lo, hi = (0.0, 1.0) if taps[s] else (-math.inf, math.inf)
        v = as_float(args[A_VELOCITIES + s], f"arg {A_VELOCITIES + s} groove velocity", lo, hi)
        vels.append(v if taps[s] else 0.0)
    for s in range(STEPS):
        lo, hi = (-1.0, 1.0) if taps[s] else (-math.inf, math.inf)
        v = as_float(args[A_OFFSETS + s], f"arg {A_OFFSETS + s} groove offset", lo, hi)
        offs.append(v if taps[s] else 0.0)
    accent_mask = as_mask(args[A_ACCENTS], f"arg {A_ACCENTS} accent mask")

    score_grid = np.stack([mask_to_steps(m) for m in masks], axis=1)  # (32, 9)
    if lanes:
        score, lane_modes = score_grid, tuple(LANE_MODES[m] for m in modes)
    else:
        score, lane_modes = (score_grid if flags & FLAG_SCORE else None), None
    groove = None
    if flags & FLAG_GROOVE:
        groove = np.stack([taps, np.asarray(vels, np.float32), np.asarray(offs, np.float32)], axis=1)
    accents = mask_to_steps(accent_mask) if flags & FLAG_ACCENTS else None
    req = Request(model=model, variations=variations, temperature=temperature, seed=seed,
                  score_seed=None if score_seed == -1 else score_seed,
                  groove_seed=None if groove_seed == -1 else groove_seed,
                  score=score, lane_modes=lane_modes, groove=groove, accents=accents)
    return GenerateMessage(rid, port, req, flags)


# --------------------------------------------------------------------------------------------
# Replies

Message = tuple  # (address: str, args: list, types: str): one OSC type tag per argument


def _text(text) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def pong(request_id: int, names: Sequence[str]) -> list[Message]:
    names = [str(n) for n in names]
    args = [int(request_id), PROTOCOL_VERSION, len(names)] + names
    while len(args) > MAX_ARGS or len(encode(PONG, args)) > MAX_BYTES:  # cannot happen with real model sets
        args.pop()
    return [(PONG, args, "iii" + "s" * (len(args) - 3))]


def status(request_id: int, queued: int, served: int, errors: int, uptime_s: float) -> list[Message]:
    clip = lambda n: int(min(max(n, 0), INT32_MAX))  # noqa: E731
    return [(STATUS, [int(request_id), clip(queued), clip(served), clip(errors), float(uptime_s)], "iiiif")]


def error(request_id: int | None, code: str, text) -> list[Message]:
    if code not in ERROR_CODES:
        code = "internal"
    return [(ERROR, [-1 if request_id is None else int(request_id), code, _text(text)], "iss")]


def error_from(request_id: int | None, exc: BaseException) -> list[Message]:
    return error(request_id, protocol_code(exc), str(exc) or type(exc).__name__)


def loop_notes(loop: np.ndarray) -> list[tuple[int, float, float, int]]:
    """Notes of one (32, 27) loop as (class, start, duration, velocity), sorted by (start, class).

    The same notes as ``grid.loop_to_notes(loop, CLASS_MAP)`` (early step-0 notes wrap to the loop's
    end), computed on whole arrays: the per-note loop costs ~2 ms for a busy loop, this ~0.1 ms
    (tests/test_protocol.py checks that both agree). A start that rounds to 8.0 is the loop's
    downbeat and is sent as 0.0, so every start lies in [0, 8) as a float32.
    """
    loop = check_loop(loop)
    steps, classes = np.nonzero(loop[:, HITS] > 0.5)
    if not len(steps):
        return []
    # the float32 arithmetic of loop_to_notes: (step + offset / 2) * 0.25, + 8 when negative, round to 6
    start = (steps.astype(np.float32) + loop[steps, 18 + classes] / np.float32(2.0)) * np.float32(STEP_BEATS)
    start = np.where(start < 0, start + np.float32(LOOP_BEATS), start)
    start = np.round(start, 6).astype(np.float32)
    start = np.where(start >= LOOP_BEATS, np.maximum(start - np.float32(LOOP_BEATS), np.float32(0.0)), start)
    vel = np.clip(np.rint(loop[steps, 9 + classes].astype(np.float64) * 127), 1, 127).astype(np.int64)
    order = np.lexsort((classes, start))
    dur = float(np.float32(NOTE_BEATS))
    return [(c, s, dur, v) for c, s, v in zip(classes[order].tolist(), start[order].tolist(), vel[order].tolist())]


def notes_messages(request_id: int, variation: int, notes: Sequence[tuple]) -> list[Message]:
    """/bg/notes chunks (60 notes, 243 args each at most); none for no notes."""
    msgs = []
    for chunk, i in enumerate(range(0, len(notes), NOTES_PER_MESSAGE)):
        args = [int(request_id), int(variation), chunk]
        part = notes[i: i + NOTES_PER_MESSAGE]
        for note in part:
            args.extend(note)
        msgs.append((NOTES, args, "iii" + "iffi" * len(part)))
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
        msgs.append((AUX_SCORE, [int(request_id), int(variation)] + masks, "ii" + "i" * N_CLASSES))
    if "groove" in aux:
        g = np.nan_to_num(np.asarray(aux["groove"], np.float32))
        vel = np.clip(g[:, 1], 0.0, 1.0).tolist()
        off = np.clip(g[:, 2], -1.0, 1.0).tolist()
        msgs.append((AUX_GROOVE, [int(request_id), int(variation), steps_to_mask(g[:, 0] > 0.5)] + vel + off,
                     "iii" + "f" * (2 * STEPS)))
    if "accents" in aux:
        msgs.append((AUX_ACCENTS, [int(request_id), int(variation), steps_to_mask(np.asarray(aux["accents"]) > 0.5)],
                     "iii"))
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


def done(request_id: int, variations: int, total_notes: int, elapsed_ms: float,
         score_seed: int, groove_seed: int) -> list[Message]:
    return [(DONE, [int(request_id), int(variations), int(total_notes), float(elapsed_ms),
                    int(score_seed), int(groove_seed)], "iiifii")]


# --------------------------------------------------------------------------------------------
# Datagrams (python-osc's type writers; byte-identical to OscMessageBuilder, ~8x faster)

_WRITERS = {"i": osc_types.write_int, "f": osc_types.write_float, "s": osc_types.write_string,
            "h": osc_types.write_int64, "d": osc_types.write_double, "b": osc_types.write_blob}


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
    w = _WRITERS
    return b"".join([osc_types.write_string(address), osc_types.write_string("," + types)]
                    + [w[t](a) for t, a in zip(types, args)])


def encode_all(messages: Iterable[Message]) -> list[bytes]:
    return [encode(*m) for m in messages]


# --------------------------------------------------------------------------------------------
# Client side: building a request, assembling the replies


def generate_args(request_id: int, reply_port: int, model: str, *, variations: int = 1, temperature: float = 1.0,
                  seed: int = 0, score_seed: int = -1, groove_seed: int = -1, score=None, lane_modes=None,
                  groove=None, accents=None) -> list:
    """The 93 arguments of a /bg/generate. ``score`` (32, 9) hits or None; ``lane_modes`` nine of
    0/1/2 or "decide"/"given"/"empty" (default: given when a score is sent, else decide);
    ``groove`` (32, 3) hit/velocity/offset or None; ``accents`` (32,) or None. Masks go out signed."""
    flags = 0
    masks = [0] * N_CLASSES
    if score is not None:
        flags |= FLAG_SCORE
        s = np.asarray(score) > 0.5
        masks = [steps_to_mask(s[:, c]) for c in range(N_CLASSES)]
    if lane_modes is None:
        lane_modes = [1 if score is not None else 0] * N_CLASSES
    modes = [LANE_MODES.index(m) if isinstance(m, str) else int(m) for m in lane_modes]
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
    return ([int(request_id), int(reply_port), str(model), int(variations), float(temperature), int(seed),
             int(score_seed), int(groove_seed), flags] + masks + modes + [gmask] + vels + offs + [amask])


@dataclass
class Reply:
    """Everything received for one request id."""

    request_id: int
    notes: dict = field(default_factory=dict)  # variation -> {chunk: [(class, start, dur, vel), ...]}
    aux_score: dict = field(default_factory=dict)  # variation -> [mask x9]
    aux_groove: dict = field(default_factory=dict)  # variation -> (mask, [vel x32], [off x32])
    aux_accents: dict = field(default_factory=dict)  # variation -> mask
    done: list | None = None  # [variations, total_notes, elapsed_ms, score_seed, groove_seed]
    error: tuple | None = None  # (code, text)
    pong: list | None = None
    status: list | None = None
    order: list = field(default_factory=list)  # addresses in arrival order

    @property
    def finished(self) -> bool:
        return any(x is not None for x in (self.done, self.error, self.pong, self.status))

    def variation_notes(self, v: int) -> list[tuple]:
        chunks = self.notes.get(v, {})
        return [n for c in sorted(chunks) for n in chunks[c]]

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
            r.notes.setdefault(v, {})[chunk] = [tuple(flat[i: i + NOTE_ARGS]) for i in range(0, len(flat), NOTE_ARGS)]
        elif address == AUX_SCORE:
            r.aux_score[args[1]] = list(args[2:])
        elif address == AUX_GROOVE:
            r.aux_groove[args[1]] = (args[2], list(args[3:3 + STEPS]), list(args[3 + STEPS:]))
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
