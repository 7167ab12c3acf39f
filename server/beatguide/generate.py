"""Offline generation: MIDI files in, one MIDI file per variation (plus the model's readings) out.

:func:`run` is ``beatguide generate``, made of these pieces: :func:`read_gestures` reads the input
files, :func:`lane_modes` builds the nine lane modes, :func:`unread_gestures` says what the model will
not read, :func:`output_loops` names the loops of a result, :func:`write_loops` writes them all or none.
Without a seed, :func:`random_seed` picks one the user can type back (``--seed``, the device's Seed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import gestures, phrases
from .drums import CLASSES, GM_MAP, INPUT_MAPS, TAP_MAP, DrumMap
from .engine import Engine, Request, Result
from .errors import InputError, OutputError
from .grid import check_bpm
from .midi_io import DEFAULT_BPM, read_loop, write_loop
from .model_paths import model_dirs
from .vocabulary import LANE_MODES, default_lane_mode

RANDOM_SEEDS = 100_000  # random seeds are 0-99999, the range of the device's Seed box


def random_seed() -> int:
    """A seed for a run that was given none (printed, so the run can be repeated)."""
    return secrets.randbelow(RANDOM_SEEDS)


@dataclass
class Gestures:
    """What the input files demonstrate: score (32, 9), groove (32, 3), accents (32,), each None
    when not given; the first file's tempo; what was left out reading them (lines for the user)."""

    score: np.ndarray | None = None
    groove: np.ndarray | None = None
    accents: np.ndarray | None = None
    bpm: float | None = None
    ignored: list[str] = field(default_factory=list)

    @property
    def given(self) -> list[str]:
        return [g for g in ("score", "groove", "accents") if getattr(self, g) is not None]


def read_gestures(
    score=None, groove=None, accents=None, *, input_map: DrumMap = GM_MAP, start_bar: int = 0
) -> Gestures:
    """Read the score, groove and accent files given (paths or None), 2 bars from ``start_bar``.
    Each file is read as the device reads a clip (:func:`gestures.read_notes`): score and accents
    through ``input_map``; a groove is taps on any pitch."""
    out = Gestures()
    for kind, path in (("score", score), ("groove", groove), ("accents", accents)):
        if path is None:
            continue
        read = read_loop(path, TAP_MAP if kind == "groove" else input_map, start_bar=start_bar)
        setattr(out, kind, getattr(gestures.read_notes(read.notes, input_map), kind))
        out.bpm = out.bpm or read.bpm
        out.ignored += read.ignored
    return out


def parse_lanes(text: str) -> dict[str, str]:
    """'kick=exact,crash=empty' -> {class: mode}."""
    lanes = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, _, mode = item.partition("=")
        if name not in CLASSES or mode not in LANE_MODES:
            raise InputError(
                f"bad lane setting {item!r}: use CLASS=MODE with CLASS in {', '.join(CLASSES)} "
                f"and MODE in {', '.join(LANE_MODES)}"
            )
        lanes[name] = mode
    return lanes


def lane_modes(
    lanes: dict[str, str] | None = None, default: str | None = None, have_score: bool = False
) -> tuple | None:
    """Nine lane modes: ``lanes`` ({class: mode}) over ``default`` for the rest (else the engine's
    ``default_lane_mode``). None when neither is set (the engine's default)."""
    if not lanes and default is None:
        return None
    if default is not None and default not in LANE_MODES:
        raise InputError(f"lane mode {default!r} is not one of {', '.join(LANE_MODES)}")
    rest = default or default_lane_mode(have_score)
    return tuple((lanes or {}).get(c, rest) for c in CLASSES)


def unread_gestures(capabilities: dict, given: list[str]) -> list[str]:
    """The gestures in ``given`` a model with these capabilities does not read (lanes read a score)."""
    reads = set(capabilities["gestures"]) | ({"score"} if "lanes" in capabilities["gestures"] else set())
    return [g for g in given if g not in reads]


def output_loops(model: str, result: Result) -> dict[str, np.ndarray]:
    """{file name: loop}: each variation, then the model's readings of it (aux score, groove, accents)."""
    files = {}
    for v, loop in enumerate(result.loops, 1):
        stem = f"{model}_v{v}"
        files[f"{stem}.mid"] = loop
        aux = {k: a[v - 1] for k, a in result.aux.items()}
        if "score" in aux:
            files[f"{stem}_aux_score.mid"] = gestures.score_to_loop(aux["score"] > 0.5)
        if "groove" in aux:
            g = aux["groove"].copy()
            g[:, 0] = g[:, 0] > 0.5
            files[f"{stem}_aux_groove.mid"] = gestures.groove_to_loop(g)
        if "accents" in aux:
            files[f"{stem}_aux_accents.mid"] = gestures.accents_to_loop(aux["accents"] > 0.5)
    return files


def write_loops(
    out,
    loops: dict[str, np.ndarray],
    bpm: float,
    drum_map: DrumMap = GM_MAP,
    *,
    overwrite: bool = False,
    tag: str = "",
) -> list[Path]:
    """Write every loop into folder ``out`` (created when missing), all or none, each file's track
    named after the file and ``tag`` ("agvae2_v1 seed 7"): a file already there (unless ``overwrite``),
    a path that is not a folder or cannot be written raises OutputError before or instead of leaving
    anything behind."""
    bpm = check_bpm(bpm)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file, not a folder")
    clash = [n for n in loops if (out / n).exists()]
    if clash and not overwrite:
        raise OutputError(
            f"{out} already holds {', '.join(clash[:3])}{' ...' if len(clash) > 3 else ''}; "
            "give --force to overwrite, or another folder with --out"
        )
    created = _make_folder(out)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, loop in loops.items():
            tmp = write_loop(
                out / f".{name}.partial", loop, bpm, drum_map, track_name=f"{Path(name).stem} {tag}".strip()
            )
            staged.append((tmp, out / name))
        for tmp, final in staged:
            os.replace(tmp, final)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        for folder in created:
            with contextlib.suppress(OSError):  # left when a file already moved into it
                folder.rmdir()
        raise
    return [final for _, final in staged]


def _make_folder(out: Path) -> list[Path]:
    """Create ``out`` and its missing parents; the folders created, deepest first (or OutputError)."""
    missing = [p for p in (out, *out.parents) if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create the folder {out}: {e.strerror or e}") from None
    return missing


@dataclass
class Written:
    """What :func:`run` wrote: the folder and its files, their tempo, the seed, the engine's result."""

    out: Path
    paths: list[Path]
    bpm: float
    seed: int
    result: Result

    def summary(self) -> str:
        """The line ``beatguide generate`` ends with."""
        r = self.result
        return (
            f"wrote {len(self.paths)} files to {self.out} at {self.bpm:g} BPM with seed {self.seed} "
            f"(--seed {self.seed} repeats it; score seed {r.score_seed}, groove seed {r.groove_seed}, "
            f"{r.elapsed_ms:.1f} ms)"
        )


def run(args: argparse.Namespace, note: Callable[[str], None]) -> Written:
    """``beatguide generate`` with its parsed options ``args``: read the input files, generate the loops
    (a phrase when ``args.bars`` asks) and write one MIDI file per loop and reading. ``note`` gets a line
    for each thing left out (notes in the files, gestures the model does not read) before generating."""
    folders = model_dirs(args.models)
    bpm = None if args.bpm is None else check_bpm(args.bpm)  # before anything is read or written
    engine = Engine(folders)
    caps = engine.capabilities(args.model)
    in_map = INPUT_MAPS[args.input_map]
    out_map = DrumMap.parse_output(args.output_pitches, in_map) if args.output_pitches else in_map
    g = read_gestures(args.score, args.groove, args.accents, input_map=in_map, start_bar=args.start_bar)
    modes = lane_modes(parse_lanes(args.lanes), args.all_lanes, g.score is not None)
    unread = unread_gestures(caps, g.given)
    for line in g.ignored:
        note(line)
    for k in unread:
        note(f"{args.model} does not read {k} (it reads {', '.join(caps['gestures'])}): --{k} left out")
    read = {k: getattr(g, k) for k in g.given if k not in unread}
    seed = random_seed() if args.seed is None else args.seed
    request = Request(
        args.model,
        args.variations,
        args.temperature,
        seed,
        args.score_seed,
        args.groove_seed,
        lane_modes=modes,
        latent_source=args.latent_source,
        **read,
    )
    result = phrases.generate(engine, request, phrases.Phrase(args.bars, args.fill, args.timing, args.velocity))
    bpm = bpm or g.bpm or DEFAULT_BPM  # the MIDI standard's tempo when no file gives one
    out = args.out or Path(f"{args.model}_seed{seed}")
    loops = output_loops(args.model, result)
    paths = write_loops(out, loops, bpm, out_map, overwrite=args.force, tag=f"seed {seed}")
    return Written(out, paths, bpm, seed, result)
