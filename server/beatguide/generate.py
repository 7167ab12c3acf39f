"""``beatguide generate``: MIDI files in, one MIDI file per variation (plus the model's readings) out."""

from __future__ import annotations

from pathlib import Path


from . import gestures
from .drums import CLASSES, INPUT_MAPS, TAP_MAP, DrumMap
from .engine import LANE_MODES, Engine, Request
from .errors import InputError
from .midi_io import read_loop, write_loop


def add_generate_args(p) -> None:
    p.add_argument("--model", default="agvae2", help="baseline, factorized, agvae2 or agvae11")
    p.add_argument("--score", type=Path, help="MIDI file: what to play (a drum clip)")
    p.add_argument("--groove", type=Path, help="MIDI file: how to play it (taps on any pitch)")
    p.add_argument("--accents", type=Path, help="MIDI file whose loud notes mark the accents")
    p.add_argument("--lanes", default="", help="agvae11 lane modes, e.g. 'crash=empty,ride=decide' "
                   "(given/empty/decide; unlisted lanes are given when a score is, else decided)")
    p.add_argument("--variations", type=int, default=4)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--score-seed", type=int, help="keep the score latent of an earlier run")
    p.add_argument("--groove-seed", type=int, help="keep the groove latent of an earlier run")
    p.add_argument("--start-bar", type=int, default=0, help="first bar of the 2-bar window read from each file")
    p.add_argument("--input-map", choices=sorted(INPUT_MAPS), default="gm", help="how score pitches read as drums")
    p.add_argument("--output-pitches", help="nine output pitches, kick..ride (default 36 38 42 46 45 48 50 49 51)")
    p.add_argument("--bpm", type=float, help="tempo of the files written (default: the input's)")
    p.add_argument("--models", type=Path, action="append", help="also look for models here (repeatable)")
    p.add_argument("--out", type=Path, required=True, help="folder for the MIDI files")
    p.add_argument("--force", action="store_true", help="overwrite files already in --out")


def parse_lanes(text: str, have_score: bool) -> tuple | None:
    """'crash=empty,ride=decide' -> nine lane modes; None when nothing is given."""
    if not text:
        return None
    modes = ["given" if have_score else "decide"] * len(CLASSES)
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, _, mode = item.partition("=")
        if name not in CLASSES or mode not in LANE_MODES:
            raise InputError(f"bad lane setting {item!r}: use CLASS=MODE with CLASS in {', '.join(CLASSES)} "
                             f"and MODE in {', '.join(LANE_MODES)}")
        modes[CLASSES.index(name)] = mode
    return tuple(modes)


def generate_cli(args) -> int:
    in_map = INPUT_MAPS[args.input_map]
    out_map = DrumMap.parse_output(args.output_pitches, in_map) if args.output_pitches else in_map
    bpm, score, groove, accents = None, None, None, None
    if args.score:
        loop, bpm = read_loop(args.score, in_map, start_bar=args.start_bar)
        score = gestures.score(loop)
    if args.groove:
        taps, groove_bpm = read_loop(args.groove, TAP_MAP, start_bar=args.start_bar)
        groove = gestures.groove(taps)
        bpm = bpm or groove_bpm
    if args.accents:
        loop, accent_bpm = read_loop(args.accents, in_map, start_bar=args.start_bar)
        accents = gestures.accents(loop)
        bpm = bpm or accent_bpm
    bpm = args.bpm or bpm or 120.0
    request = Request(args.model, args.variations, args.temperature, args.seed, args.score_seed, args.groove_seed,
                      score, parse_lanes(args.lanes, score is not None), groove, accents)
    result = Engine(args.models).generate(request)

    files = {}
    for v, loop in enumerate(result.loops, 1):
        files[f"{args.model}_v{v}.mid"] = loop
        if "score" in result.aux:
            files[f"{args.model}_v{v}_aux_score.mid"] = gestures.score_to_loop(result.aux["score"][v - 1] > 0.5)
        if "groove" in result.aux:
            g = result.aux["groove"][v - 1].copy()
            g[:, 0] = g[:, 0] > 0.5
            files[f"{args.model}_v{v}_aux_groove.mid"] = gestures.groove_to_loop(g)
    args.out.mkdir(parents=True, exist_ok=True)
    clash = [n for n in files if (args.out / n).exists()]
    if clash and not args.force:
        raise InputError(f"{args.out} already holds {', '.join(clash[:3])}{' ...' if len(clash) > 3 else ''}; "
                         "choose another --out or pass --force")
    for name, loop in files.items():
        write_loop(args.out / name, loop, bpm, out_map)
    print(f"wrote {len(files)} files to {args.out} at {bpm:g} BPM "
          f"(score seed {result.score_seed}, groove seed {result.groove_seed}, {result.elapsed_ms:.1f} ms)")
    return 0
