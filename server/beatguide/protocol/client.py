"""The client's half of the protocol (the device's, in Python): building a /bg/generate and
assembling the replies, both read off the tables in :mod:`.spec`. ``beatguide.client`` sends and
receives with them; the tests and the benchmarks use them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..vocabulary import LANE_MODES, LATENT_SOURCES, default_lane_mode
from .codec import bit_names, lane_masks, pack, steps_to_mask, unpack_reply
from .spec import (
    AUX_ACCENTS,
    AUX_GROOVE,
    AUX_SCORE,
    DONE,
    ERROR,
    FLAG_ACCENTS,
    FLAG_GROOVE,
    FLAG_SCORE,
    GENERATE_LAYOUT,
    GESTURES,
    NEEDS,
    NOTES,
    PONG,
    REPLY_SHAPES,
    STATUS,
    Field,
)

# /bg/generate fields set from the gestures generate_args is given; its other keywords are SETTINGS.
GESTURE_FIELDS = (
    "flags",
    "lane_masks",
    "lane_modes",
    "groove_mask",
    "groove_velocities",
    "groove_offsets",
    "accent_mask",
)
SETTINGS = tuple(
    f.name for f in GENERATE_LAYOUT if (f.default is not None or f.unset is not None) and f.name not in GESTURE_FIELDS
)


def _wire(f: Field, v):
    """A value as the field sends it: None as its unset value, a name as its index."""
    if v is None:
        if f.unset is None:
            raise TypeError(f"generate_args needs {f.name}")
        return f.unset
    return f.names.index(v) if f.names and isinstance(v, str) else v


def generate_args(
    request_id: int, reply_port: int, model: str, *, score=None, lane_modes=None, groove=None, accents=None, **settings
) -> list:
    """The arguments of a /bg/generate, in GENERATE_LAYOUT's order. ``score`` (32, 9) hits or None;
    ``lane_modes`` nine of LANE_MODES, as names or indices (default: ``vocabulary.default_lane_mode``); ``groove`` (32, 3) hit/velocity/offset or None; ``accents`` (32,) or None.
    ``settings``: any of SETTINGS (variations, temperature, seed, score_seed, groove_seed,
    latent_source, bars, fill, timing, velocity), a name or index where the field has names, None
    for not set (the model's default latent source, seeds derived from ``seed``); the layout's
    defaults for the rest. Masks go out signed."""
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise TypeError(f"generate_args() got unexpected keyword arguments: {', '.join(unknown)}")
    values = {f.name: f.default for f in GENERATE_LAYOUT}
    values.update(settings, request_id=request_id, reply_port=reply_port, model=model, flags=0)
    if score is not None:
        values["flags"] |= FLAG_SCORE
        values["lane_masks"] = lane_masks(np.asarray(score) > 0.5)
        values["lane_modes"] = default_lane_mode(score_given=True)
    if lane_modes is not None:
        values["lane_modes"] = lane_modes
    if groove is not None:
        values["flags"] |= FLAG_GROOVE
        g = np.asarray(groove, np.float32)
        taps = g[:, 0] > 0.5
        values["groove_mask"] = steps_to_mask(taps)
        values["groove_velocities"] = np.where(taps, g[:, 1], 0.0).astype(float).tolist()
        values["groove_offsets"] = np.where(taps, g[:, 2], 0.0).astype(float).tolist()
    if accents is not None:
        values["flags"] |= FLAG_ACCENTS
        values["accent_mask"] = steps_to_mask(np.asarray(accents) > 0.5)
    for f in GENERATE_LAYOUT:
        v = values[f.name]
        if f.count == 1:
            values[f.name] = _wire(f, v)
        else:  # a run: one value per argument, or one value (a default) for all
            values[f.name] = [_wire(f, x) for x in (v if np.ndim(v) else [v] * f.count)]
    return pack(GENERATE_LAYOUT, values)


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
    status: list | None = None  # [queued, served, errors, uptime_s]
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
        groups = unpack_reply(REPLY_SHAPES[PONG], [self.request_id, *self.pong])[1] if self.pong else []
        return {
            g["name"]: {
                "gestures": bit_names(g["gestures"], GESTURES),
                "lane_modes": bit_names(g["lane_modes"], LANE_MODES),
                "latent_sources": bit_names(g["latent_sources"], LATENT_SOURCES),
                "aux": bit_names(g["aux"], GESTURES),
                "needs": NEEDS[g["needs"]],
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
        """File one reply message, read by its shape; ValueError for one that has none or does not fit it."""
        if not args or not isinstance(args[0], int):
            raise ValueError(f"malformed reply {address} {list(args)[:4]}")
        if address not in REPLY_SHAPES:
            raise ValueError(f"unknown reply address {address}")
        head, items = unpack_reply(REPLY_SHAPES[address], args)
        r = self.get(head["request_id"])
        r.order.append(address)
        if address == NOTES:
            r.notes.setdefault(head["variation"], {})[head["chunk"]] = [tuple(n.values()) for n in items]
        elif address == AUX_SCORE:
            r.aux_score[head["variation"]] = head["lane_masks"]
        elif address == AUX_GROOVE:
            r.aux_groove[head["variation"]] = (head["mask"], head["velocities"], head["offsets"])
        elif address == AUX_ACCENTS:
            r.aux_accents[head["variation"]] = head["mask"]
        elif address == ERROR:
            r.error = (head["code"], head["text"])
        elif address == DONE:  # the terminal replies keep their arguments after the request id
            r.done = list(args[1:])
        elif address == PONG:
            r.pong = list(args[1:])
        elif address == STATUS:
            r.status = list(args[1:])
        return r
