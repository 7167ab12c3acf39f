"""The protocol's tables: every fact the device and the server share, written once, as data.

Addresses, the argument layout of each request (:data:`REQUESTS`; ``/bg/generate``'s is
:data:`GENERATE_LAYOUT`), the shape of each reply (:data:`REPLY_SHAPES`), flags, error codes,
capability names, ports, limits and the version. The codec, the server's validation, the client
half and the device's constants are all read off these tables (as mido's ``messages/specs.py``
drives its messages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .. import amounts, grid
from ..drums import N_CLASSES
from ..grid import STEPS
from ..phrases import FILL_MODES, PHRASE_BARS, Phrase
from ..vocabulary import (
    LANE_MODES,
    LATENT_SOURCES,
    MAX_TEMPERATURE,
    MAX_VARIATIONS,
    MIN_TEMPERATURE,
    default_lane_mode,
)

PROTOCOL_VERSION = 4  # 4: phrases and amounts (bars, fill, timing, velocity) in /bg/generate, bars in /bg/done

PING, PONG, STATUS = "/bg/ping", "/bg/pong", "/bg/status"
GENERATE, NOTES, DONE, ERROR = "/bg/generate", "/bg/notes", "/bg/done", "/bg/error"
AUX_SCORE, AUX_GROOVE, AUX_ACCENTS = "/bg/aux_score", "/bg/aux_groove", "/bg/aux_accents"
ADDRESSES = (PING, PONG, STATUS, GENERATE, NOTES, AUX_SCORE, AUX_GROOVE, AUX_ACCENTS, DONE, ERROR)

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
ERROR_CODES = ("bad_args", "bad_value", "unknown_model", "no_input", "busy", "unknown_address", "internal")
# Model capabilities travel in /bg/pong as bit sets over these names (bit i = name i).
GESTURES = ("score", "groove", "accents", "lanes")
NEEDS = ("score", "score_or_groove", "any")  # what a model needs at least, sent as an index

MASK, TAPPED = "mask", "tapped"  # Field kinds


@dataclass(frozen=True)
class Field:
    """One argument (``count`` 1) or a run of ``count`` arguments of one OSC type ("i", "f", "s").

    A request's fields also say what the server accepts and what a client sends when not told:

    - ``lo`` .. ``hi``: the range; ``names``: the argument is an index into them; ``choices``: it
      is one of them;
    - ``kind``: ``MASK`` a 32-bit step mask, signed or unsigned; ``TAPPED`` a groove value,
      range-checked only on the steps of ``groove_mask`` when the groove flag is set (elsewhere any
      finite number, read as 0);
    - ``unset``: the value that means "not set" (read as None);
    - ``default``: what a client sends when not told (None: ``unset``; a field with neither is required);
    - ``label``: the field's name in error texts, where not ``name``.
    """

    name: str
    type: str
    count: int = 1
    lo: float | None = None
    hi: float | None = None
    names: tuple = ()
    choices: tuple = ()
    kind: str = ""
    unset: int | None = None
    default: object = None
    label: str = ""

    @property
    def bounds(self) -> tuple:
        """The range an int or float argument is checked against."""
        if self.names:
            return (0 if self.lo is None else self.lo), len(self.names) - 1
        if self.choices:
            return min(self.choices), max(self.choices)
        return self.lo, self.hi


def layout_offsets(fields: Sequence[Field]) -> dict[str, int]:
    """{field name: index of its first argument}."""
    out, i = {}, 0
    for f in fields:
        out[f.name] = i
        i += f.count
    return out


def layout_types(fields: Sequence[Field]) -> str:
    return "".join(f.type * f.count for f in fields)


# The two arguments every request starts with.
HEADER = (
    Field("request_id", "i", lo=INT32_MIN, hi=INT32_MAX),
    Field("reply_port", "i", lo=MIN_REPLY_PORT, hi=MAX_REPLY_PORT),
)

# Argument layout of /bg/generate (docs/osc-protocol.md has it as a table; tests/test_spec.py checks both agree).
GENERATE_LAYOUT = (
    *HEADER,
    Field("model", "s"),
    Field("variations", "i", lo=1, hi=MAX_VARIATIONS, default=1),
    Field("temperature", "f", lo=MIN_TEMPERATURE, hi=MAX_TEMPERATURE, default=1.0),
    Field("seed", "i", lo=0, hi=INT32_MAX, default=0),
    Field("score_seed", "i", lo=-1, hi=INT32_MAX, unset=-1),  # unset: derived from seed
    Field("groove_seed", "i", lo=-1, hi=INT32_MAX, unset=-1),
    Field("flags", "i", lo=0, hi=FLAG_SCORE | FLAG_GROOVE | FLAG_ACCENTS, default=0),
    Field("latent_source", "i", lo=-1, names=LATENT_SOURCES, unset=-1),  # unset: the model's default
    Field("lane_masks", "i", N_CLASSES, kind=MASK, default=0, label="lane mask"),
    Field("lane_modes", "i", N_CLASSES, names=LANE_MODES, default=default_lane_mode(False), label="lane mode"),
    Field("groove_mask", "i", kind=MASK, default=0, label="groove mask"),
    Field("groove_velocities", "f", STEPS, lo=0.0, hi=1.0, kind=TAPPED, default=0.0, label="groove velocity"),
    Field("groove_offsets", "f", STEPS, lo=-1.0, hi=1.0, kind=TAPPED, default=0.0, label="groove offset"),
    Field("accent_mask", "i", kind=MASK, default=0, label="accent mask"),
    Field("bars", "i", choices=PHRASE_BARS, default=grid.BARS),
    Field("fill", "i", names=FILL_MODES, default=Phrase().fill),
    Field("timing", "f", lo=amounts.MIN, hi=amounts.MAX, default=amounts.FULL),
    Field("velocity", "f", lo=amounts.MIN, hi=amounts.MAX, default=amounts.FULL),
)
REQUESTS = {PING: HEADER, STATUS: HEADER, GENERATE: GENERATE_LAYOUT}
GENERATE_ARGC = len(layout_types(GENERATE_LAYOUT))  # 98
OLD_GENERATE_ARGC = {94: 3}  # argument counts of earlier protocols' /bg/generate: their version

# Index of each /bg/generate field's first argument.
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
