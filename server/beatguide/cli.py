"""The beatguide command line: examples, generate, serve, data, train, export, finetune, eval."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from . import __version__
from .errors import BeatGuideError, InputError, OutputError, TrainExtraError
from .grid import HITS
from .model_paths import user_models_dir
from .phrases import DATA_FILE as PHRASE_DATA
from .protocol import DEFAULT_SERVER_PORT
from .registry import DEFAULT_MODEL, KINDS

EXIT_USER_ERROR = 2
GMD_ENV = "BEATGUIDE_GMD"
GMD_URL = "https://magenta.tensorflow.org/datasets/groove"


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default in --help, except where it has none or its help already says."""

    def _get_help_string(self, action):
        default = action.default
        if default is None or default is False or default == [] or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _check_free(paths, what: str) -> None:
    """OutputError when any of ``paths`` exists: the command would overwrite it (--force allows it)."""
    taken = [str(p) for p in paths if Path(p).exists()]
    if taken:
        raise OutputError(
            f"{', '.join(taken[:3])}{' ...' if len(taken) > 3 else ''} already exist{'s' if len(taken) == 1 else ''}: "
            f"give --force to overwrite, or another {what}"
        )


def _gmd(path: Path | None) -> Path:
    """The Groove MIDI Dataset folder: ``--gmd``, else ``$BEATGUIDE_GMD``."""
    if path is None:
        raise BeatGuideError(
            f"where is the Groove MIDI Dataset? Give --gmd DIR or set ${GMD_ENV} (download it from {GMD_URL})"
        )
    return path


def _models(args) -> None:
    """``--models`` folders -> the whole search path (beatguide.model_paths)."""
    from .model_paths import model_dirs

    args.models = model_dirs(args.models)


def _cmd_data_build(args) -> int:
    from .gmd import available_splits, load_split

    args.gmd = _gmd(args.gmd)
    splits = args.split or available_splits(args.gmd)
    print(f"{'split':>10} {'windows':>8} {'files':>6} {'hits/window':>12}  skipped")
    t0 = time.perf_counter()
    for split in splits:
        w = load_split(args.gmd, split, args.cache_dir, rebuild=args.rebuild)
        mean_hits = float(w.loops[:, :, HITS].sum(axis=(1, 2)).mean()) if len(w) else 0.0
        skipped = ", ".join(f"{k}: {v}" for k, v in sorted(w.skipped.items())) or "none"
        print(f"{split:>10} {len(w):>8} {len(w.files):>6} {mean_hits:>12.1f}  {skipped}")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


def _cmd_train(args) -> int:
    try:
        from beatguide_export.train import train_cli
    except ImportError as e:
        raise TrainExtraError("training", e) from None
    args.gmd = _gmd(args.gmd)
    return train_cli(args)


def _cmd_export(args) -> int:
    try:
        from beatguide_export.onnx_export import export_cli
    except ImportError as e:
        raise TrainExtraError("export", e) from None
    return export_cli(args)


def _cmd_finetune(args) -> int:
    try:
        from beatguide_export.finetune import finetune_cli
    except ImportError as e:
        raise TrainExtraError("fine-tuning", e) from None
    return finetune_cli(args)


def _cmd_generate(args) -> int:
    from .generate import run

    print(run(args, note=lambda line: print(f"beatguide: note: {line}", file=sys.stderr)).summary())
    return 0


def _cmd_examples(args) -> int:
    from .examples import write_examples

    paths = write_examples(args.out, overwrite=args.force)
    print(f"{args.out} holds the examples: {', '.join(p.name for p in paths)}")
    return 0


def _cmd_data_phrases(args) -> int:
    from .engine import Engine
    from .evaluate.phrases import real_playing, real_table
    from .gmd import load_split
    from .phrases import build

    if not args.force:
        _check_free([args.out], "file with --out")
    _models(args)
    engine = Engine(args.models)
    train = load_split(_gmd(args.gmd), "train", args.cache_dir)
    print("Real playing, train split:\n\n" + "\n".join(real_table(real_playing(train))) + "\n")
    wander = build(engine, train, engine.names, args.out)
    print(f"wrote {args.out}: wander " + ", ".join(f"{m} {w:.3f}" for m, w in wander.items()))
    return 0


def _cmd_eval(args) -> int:
    from .engine import Engine
    from .evaluate.report import OUTPUT_FILES, run_eval
    from .gmd import load_split

    args.gmd = _gmd(args.gmd)
    if args.what in ("realism", "phrases", "all"):  # their classifier test: say so before minutes of work
        try:
            import sklearn  # noqa: F401
        except ImportError as e:
            raise BeatGuideError(
                f"beatguide eval {args.what} needs scikit-learn, the eval extra ({e}): pip install 'beatguide[eval]'"
            ) from None
    before = None
    if args.before is not None:
        try:
            before = (str(args.before), json.loads(args.before.read_text()))
        except (OSError, ValueError) as e:
            raise InputError(f"--before {args.before}: not a readable results.json ({e})") from None
        if not isinstance(before[1], dict):
            raise InputError(f"--before {args.before}: not a results.json (a JSON object)")
    if not args.force:
        written = ["phrases_results.md"] if args.what == "phrases" else OUTPUT_FILES
        _check_free([args.out / name for name in written], "folder with --out")
    _models(args)
    t0 = time.perf_counter()
    engine = Engine(args.models)
    windows = load_split(args.gmd, args.split, args.cache_dir)
    if args.what == "phrases":
        from .evaluate import phrases

        results = phrases.run(engine, windows, engine.names, seed=args.seed, limit=args.limit)
        text = phrases.report(args.split, phrases.real_playing(windows), results, time.perf_counter() - t0)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "phrases_results.md").write_text(text)
        print(text)
        return 0
    path = run_eval(
        engine, windows, args.what, args.out, split=args.split, seed=args.seed, limit=args.limit, started=t0,
        before=before,
    )  # fmt: skip
    print(path.read_text())
    return 0


def _seconds(text: str) -> float:
    """A duration in seconds, 0 or more (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"expected seconds, 0 or more, got {text!r}")
    return value


def _cmd_serve(args) -> int:
    from .osc_server import serve

    _models(args)
    serve(
        args.models,
        args.host,
        args.port,
        threads=args.threads,
        queue_size=args.queue,
        allow_remote=args.allow_remote,
        stop_on_stdin_close=args.stop_on_stdin_close,
        stop_when_idle=args.stop_when_idle,
    )
    return 0


def _parser(sub, name: str, text: str) -> argparse.ArgumentParser:
    """A subcommand whose --help starts with ``text`` and shows the defaults."""
    return sub.add_parser(name, help=text, description=text, formatter_class=HelpFormatter)


def _models_option(parser) -> None:
    parser.add_argument(
        "--models",
        type=Path,
        action="append",
        metavar="DIR",
        help="also look for models in this folder, before the others (repeatable; see README, 'Where models are found')",
    )


def _shipped_models() -> list[str]:
    from .model_paths import bundled_models_dir

    shipped = bundled_models_dir()
    return sorted(p.parent.name for p in shipped.glob("*/model.json")) if shipped else []


def _add_examples(sub) -> None:
    x = _parser(sub, "examples", "write the example MIDI files (beat.mid, taps.mid, accents.mid) into a folder")
    x.add_argument("--out", type=Path, default=Path("examples"), help="folder to write them into")
    x.add_argument("--force", action="store_true", help="overwrite files of those names already in --out")
    x.set_defaults(func=_cmd_examples)


def _add_generate(sub) -> None:
    from .drums import INPUT_MAPS
    from .generate import RANDOM_SEEDS
    from .grid import MAX_BPM, MIN_BPM
    from .phrases import FILL_MODES, PHRASE_BARS
    from .vocabulary import (
        LANE_MODES,
        LATENT_SOURCES,
        MAX_TEMPERATURE,
        MAX_VARIATIONS,
        MIN_TEMPERATURE,
        default_lane_mode,
    )

    g = _parser(sub, "generate", "generate loops offline into MIDI files")
    shipped = ", ".join(_shipped_models())
    g.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"the model's name ({'shipped: ' + shipped + '; ' if shipped else ''}"
        "which for which job: docs/guide.md, 'Which model for which job')",
    )
    g.add_argument("--score", type=Path, metavar="FILE", help="MIDI file: what to play (a drum clip)")
    g.add_argument("--groove", type=Path, metavar="FILE", help="MIDI file: how to play it (taps on any pitch)")
    g.add_argument("--accents", type=Path, metavar="FILE", help="MIDI file whose loud notes mark the accents")
    g.add_argument(
        "--lanes",
        default="",
        help=f"per-drum lane modes, e.g. 'kick=exact,crash=empty' "
        f"({'/'.join(LANE_MODES)}); lanes not listed take --all-lanes (default: none listed)",
    )
    g.add_argument(
        "--all-lanes",
        choices=LANE_MODES,
        help=f"lane mode of every lane not in --lanes (default: {default_lane_mode(True)} with a score, "
        f"else {default_lane_mode(False)})",
    )
    g.add_argument(
        "--latent-source",
        choices=LATENT_SOURCES,
        help="where latents of gestures not given come from: fitted (a mixture fitted to the training codes, "
        "conditioned on what is given; the default where the model has it), prior (N(0, I), as in the paper) or "
        "bank (real drummers' codes)",
    )
    g.add_argument("--bars", type=int, choices=PHRASE_BARS, default=2, help="phrase length in bars")
    g.add_argument(
        "--fill",
        choices=FILL_MODES,
        default="auto",
        help="a fill in a 4- or 8-bar phrase's last bar: auto (as often as real phrases end in one), always or off",
    )
    g.add_argument("--timing", type=float, default=100.0, help="timing amount, 0-150 %% of the generated offsets")
    g.add_argument(
        "--velocity",
        type=float,
        default=100.0,
        help="velocity amount, 0-150 %% of the dynamics around the loop's level",
    )
    g.add_argument("--variations", type=int, default=4, help=f"loops to generate, 1-{MAX_VARIATIONS}")
    g.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help=f"{MIN_TEMPERATURE}-{MAX_TEMPERATURE}: lower plays safer, higher wilder",
    )
    g.add_argument(
        "--seed",
        type=int,
        help=f"a whole number 0 or more; the same seed and inputs give the same loops "
        f"(default: a random one, 0-{RANDOM_SEEDS - 1}, printed and written into the file names)",
    )
    g.add_argument("--score-seed", type=int, help="keep the score latent of an earlier run (its printed score seed)")
    g.add_argument("--groove-seed", type=int, help="keep the groove latent of an earlier run (its printed groove seed)")
    g.add_argument(
        "--start-bar",
        type=int,
        default=0,
        help="first bar (0 or more) of the 2-bar window read from each file; 0 is the file's first bar",
    )
    g.add_argument(
        "--input-map",
        choices=sorted(INPUT_MAPS),
        default="gm",
        help="how score and accent pitches read as drums (gm: General MIDI, note_seq's map; "
        "gmd: the Groove MIDI Dataset's Roland kit)",
    )
    g.add_argument("--output-pitches", help="nine output pitches, kick..ride (default 36 38 42 46 45 48 50 49 51)")
    g.add_argument(
        "--bpm",
        type=float,
        help=f"tempo of the files written, {MIN_BPM:g}-{MAX_BPM:g} (default: the input's, else 120)",
    )
    _models_option(g)
    g.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help=f"folder for the MIDI files (default: MODEL_seedSEED in the current folder, e.g. {DEFAULT_MODEL}_seed7)",
    )
    g.add_argument("--force", action="store_true", help="overwrite files of the same names already in --out")
    g.set_defaults(func=_cmd_generate)


def _add_finetune(sub) -> None:
    from .drums import INPUT_MAPS

    f = _parser(sub, "finetune", "fine-tune a model on your own drum MIDI files (needs the train extra)")
    f.add_argument("model", help=f"the model to start from, e.g. {DEFAULT_MODEL}")
    f.add_argument("--midi", type=Path, required=True, help="folder of your drum MIDI files (sub-folders too)")
    f.add_argument("--name", required=True, help="the new model's name (it goes into your models folder)")
    f.add_argument("--minutes", type=float, default=10.0, help="time limit for training, in minutes")
    f.add_argument("--input-map", choices=sorted(INPUT_MAPS), default="gm", help="how pitches read as drums")
    f.add_argument("--force", action="store_true", help="replace your model of that name")
    _models_option(f)
    f.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    f.add_argument("--seed", type=int, default=0, help="training seed (0 or more)")
    f.set_defaults(func=_cmd_finetune)


def _add_export(sub) -> None:
    e = _parser(sub, "export", "export a trained run to an ONNX model (needs the train extra)")
    e.add_argument("run", type=Path, help="run folder with best.pt")
    e.add_argument("--name", help=f"the model's name (default: the run's model kind, e.g. {DEFAULT_MODEL})")
    e.add_argument(
        "--models",
        type=Path,
        default=user_models_dir(),
        help=f"where the model folder goes (default: your models folder, {user_models_dir()})",
    )
    e.add_argument(
        "--replace",
        action="store_true",
        help="replace a model of that name: one already there, or a shipped one (yours then hides it everywhere)",
    )
    e.add_argument("--results", type=Path, help="evaluation summary to put in the model card (results.json)")
    e.add_argument("--gmd", type=Path, help="rebuild the latent bank and fit the fitted prior from this dataset")
    e.set_defaults(func=_cmd_export)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="beatguide", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--version", action="version", version=f"beatguide {__version__}")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="how much to log")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    gmd_default = Path(os.environ[GMD_ENV]) if os.environ.get(GMD_ENV) else None
    gmd_help = f"Groove MIDI Dataset folder, holding info.csv (default: ${GMD_ENV})"
    cache_help = "where built arrays are cached (default: ~/.cache/beatguide, or $BEATGUIDE_CACHE)"

    _add_examples(sub)
    _add_generate(sub)

    s = _parser(sub, "serve", "serve the models over OSC on loopback UDP (the device starts it by itself)")
    s.add_argument("--port", type=int, default=DEFAULT_SERVER_PORT, help="UDP port, 0-65535 (0: a free one, announced)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on")
    s.add_argument("--allow-remote", action="store_true", help="accept datagrams from other hosts (not recommended)")
    _models_option(s)
    s.add_argument("--threads", type=int, default=1, help="inference worker threads (1 or more)")
    s.add_argument("--queue", type=int, default=32, help="pending requests before answering busy (1 or more)")
    s.add_argument(
        "--stop-on-stdin-close",
        action="store_true",
        help="stop when standard input closes (a launcher that holds it open stops the server by exiting)",
    )
    s.add_argument(
        "--stop-when-idle",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="stop once no datagram came for SECONDS (0: never; the device's launcher uses this)",
    )
    s.set_defaults(func=_cmd_serve)

    data = _parser(sub, "data", "build the Groove MIDI Dataset windows").add_subparsers(
        dest="data_cmd", required=True, metavar="COMMAND"
    )
    b = _parser(data, "build", "read info.csv, cut 2-bar windows, cache them")
    b.add_argument("--gmd", type=Path, default=gmd_default, metavar="DIR", help=gmd_help)
    b.add_argument(
        "--split", action="append", choices=["train", "validation", "test"], help="a split to build (default: all)"
    )
    b.add_argument("--cache-dir", type=Path, help=cache_help)
    b.add_argument("--rebuild", action="store_true", help="ignore the cache")
    b.set_defaults(func=_cmd_data_build)
    ph = _parser(data, "phrases", "build what phrases draw on: fill bank, fitted wander (train split)")
    ph.add_argument("--gmd", type=Path, default=gmd_default, metavar="DIR", help=gmd_help)
    ph.add_argument("--cache-dir", type=Path, help=cache_help)
    _models_option(ph)
    ph.add_argument("--out", type=Path, default=PHRASE_DATA, help="where it goes (default: the package's phrases.npz)")
    ph.add_argument("--force", action="store_true", help="replace the file --out names (the package's, by default)")
    ph.set_defaults(func=_cmd_data_phrases)

    t = _parser(sub, "train", "train a model (needs the train extra)")
    t.add_argument("model", choices=list(KINDS), help="the model to train")
    t.add_argument("--gmd", type=Path, default=gmd_default, metavar="DIR", help=gmd_help)
    t.add_argument("--out", type=Path, help="run folder (default: runs/MODEL in the current folder)")
    t.add_argument("--cache-dir", type=Path, help=cache_help)
    t.add_argument("--epochs", type=int, default=40, help="most epochs to train (1 or more)")
    t.add_argument("--batch-size", type=int, default=256, help="loops per batch")
    t.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    t.add_argument("--patience", type=int, default=6, help="early stopping: epochs without validation improvement")
    t.add_argument("--seed", type=int, default=0, help="training seed (0 or more)")
    t.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    t.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    t.add_argument("--limit", type=int, default=0, help="use only the first N training windows (0: all)")
    t.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    t.add_argument("--max-minutes", type=float, default=0, help="stop after this much training time (0: no limit)")
    t.add_argument(
        "--select",
        choices=["loss", "hits", "recon"],
        default="loss",
        help="validation term that picks the checkpoint and stops early (hits: then the values' head trains alone; "
        "recon: the loss without its KL penalty)",
    )
    t.set_defaults(func=_cmd_train)

    _add_export(sub)
    _add_finetune(sub)

    ev = _parser(sub, "eval", "reproduce the paper's tables on a split")
    ev.add_argument(
        "what",
        choices=[
            "diversity",
            "swing",
            "lanes",
            "realism",
            "aux",
            "tap2drum",
            "sources",
            "leak",
            "exact",
            "all",
            "phrases",
        ],
        help="the experiments to run (phrases: 4- and 8-bar phrases against real ones, not part of all)",
    )
    ev.add_argument("--gmd", type=Path, default=gmd_default, metavar="DIR", help=gmd_help)
    ev.add_argument("--split", default="validation", choices=["validation", "test"], help="the split to evaluate on")
    _models_option(ev)
    ev.add_argument("--cache-dir", type=Path, help=cache_help)
    ev.add_argument(
        "--out",
        type=Path,
        default=Path("."),
        help="folder for results.md, results.json and the plots (default: the current folder)",
    )
    ev.add_argument("--force", action="store_true", help="overwrite those files when --out holds them")
    ev.add_argument("--seed", type=int, default=0, help="sampling seed (0 or more)")
    ev.add_argument("--limit", type=int, default=0, help="evaluate only the first N windows (0: all)")
    ev.add_argument(
        "--before",
        type=Path,
        metavar="FILE",
        help="an earlier run's results.json: results.md shows each goal then and now",
    )
    ev.set_defaults(func=_cmd_eval)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    try:
        return int(args.func(args) or 0)
    except BeatGuideError as e:
        print(f"beatguide: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("beatguide: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
