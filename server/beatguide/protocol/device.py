"""The device's constants: every fact it shares with the server, gathered from the tables as JSON-able data."""

from __future__ import annotations

from collections.abc import Sequence

from .. import grid
from ..drums import CLASSES, DEFAULT_OUTPUT_PITCHES, GM_PITCHES, GMD_PITCHES
from ..grid import LOOP_BEATS, NOTE_BEATS, STEP_BEATS, STEPS
from ..registry import KINDS
from ..vocabulary import DEFAULT_SOURCES, default_lane_mode
from .spec import (
    ADDRESSES,
    DEFAULT_REPLY_PORT,
    DEFAULT_SERVER_PORT,
    ERROR_CODES,
    FLAGS,
    GENERATE_ARGC,
    GENERATE_LAYOUT,
    GESTURES,
    MAX_ARGS,
    MAX_BYTES,
    MAX_REPLY_PORT,
    MAX_TEXT,
    MIN_REPLY_PORT,
    NEEDS,
    NOTES_PER_MESSAGE,
    PROTOCOL_VERSION,
    REPLY_SHAPES,
    Field,
    layout_offsets,
    layout_types,
)


def _fields(fields: Sequence[Field]) -> list[dict]:
    offsets = layout_offsets(fields)
    return [{"name": f.name, "type": f.type, "count": f.count, "index": offsets[f.name]} for f in fields]


def device_spec() -> dict:
    """Every fact the device shares with the server, as JSON-able data (``m4l_device/build.py`` writes
    the device's constants, ``bg_spec.js``, from it): protocol version, addresses, the /bg/generate
    layout, reply shapes, flags, lane modes, latent sources, capability names, model kinds, error codes,
    ports, limits, the grid and the drum classes and pitch maps."""
    gen = {f.name: f for f in GENERATE_LAYOUT}
    timing = gen["timing"]
    return {
        "protocol_version": PROTOCOL_VERSION,
        "addresses": {a.removeprefix("/bg/"): a for a in ADDRESSES},
        "generate": {"argc": GENERATE_ARGC, "types": layout_types(GENERATE_LAYOUT), "fields": _fields(GENERATE_LAYOUT)},
        "replies": {
            s.address: {"fields": _fields(s.fields), "repeat": _fields(s.repeat), "max_repeats": s.max_repeats}
            for s in REPLY_SHAPES.values()
        },
        "flags": dict(FLAGS),
        "lane_modes": list(gen["lane_modes"].names),
        "default_lane_mode": default_lane_mode(score_given=True),  # a new device's lanes (sent without a score: decide)
        "latent_sources": list(gen["latent_source"].names),
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
            "bars": list(gen["bars"].choices),
            "fill_modes": list(gen["fill"].names),
            "default_fill": gen["fill"].default,
            "amount": [timing.lo, timing.default, timing.hi],  # timing and velocity: the same amounts
        },
        "limits": {
            "variations": list(gen["variations"].bounds),
            "temperature": list(gen["temperature"].bounds),
            "seed": list(gen["seed"].bounds),
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
