"""The ``beatguide`` command line: data, train, export, generate, finetune, bench, eval, serve."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from .errors import BeatGuideError
from .grid import HITS
from .model_paths import user_models_dir
from .protocol import DEFAULT_SERVER_PORT

EXIT_USER_ERROR = 2
GMD_ENV = "BEATGUIDE_GMD"
GMD_URL = "https://magenta.tensorflow.org/datasets/groove"


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
        raise BeatGuideError(f"training needs the train extra: pip install -e '.[train]' ({e})") from None
    args.gmd = _gmd(args.gmd)
    return train_cli(args)


def _cmd_export(args) -> int:
    try:
        from beatguide_export.onnx_export import export_cli
    except ImportError as e:
        raise BeatGuideError(f"export needs the train extra: pip install -e '.[train]' ({e})") from None
    return export_cli(args)


def _cmd_finetune(args) -> int:
    try:
        from beatguide_export.finetune import finetune_cli
    except ImportError as e:
        raise BeatGuideError(f"fine-tuning needs the train extra: pip install -e '.[train]' ({e})") from None
    return finetune_cli(args)


def _cmd_generate(args) -> int:
    from . import generate
    from .drums import INPUT_MAPS, DrumMap
    from .engine import Engine, Request
    from .grid import check_bpm
    from .midi_io import DEFAULT_BPM

    _models(args)
    bpm = None if args.bpm is None else check_bpm(args.bpm)  # before anything is read or written
    engine = Engine(args.models)
    caps = engine.capabilities(args.model)
    in_map = INPUT_MAPS[args.input_map]
    out_map = DrumMap.parse_output(args.output_pitches, in_map) if args.output_pitches else in_map
    g = generate.read_gestures(args.score, args.groove, args.accents, input_map=in_map, start_bar=args.start_bar)
    modes = generate.lane_modes(generate.parse_lanes(args.lanes), args.all_lanes, g.score is not None)
    unread = generate.unread_gestures(caps, g.given)
    notes = g.ignored + [
        f"{args.model} does not read {k} (it reads {', '.join(caps['gestures'])}): --{k} left out" for k in unread
    ]
    for line in notes:
        print(f"beatguide: note: {line}", file=sys.stderr)
    read = {k: getattr(g, k) for k in g.given if k not in unread}
    result = engine.generate(
        Request(
            args.model,
            args.variations,
            args.temperature,
            args.seed,
            args.score_seed,
            args.groove_seed,
            lane_modes=modes,
            latent_source=args.latent_source,
            **read,
        )
    )
    bpm = bpm or g.bpm or DEFAULT_BPM  # the MIDI standard's tempo when no file gives one
    paths = generate.write_loops(
        args.out, generate.output_loops(args.model, result), bpm, out_map, overwrite=args.force
    )
    print(
        f"wrote {len(paths)} files to {args.out} at {bpm:g} BPM "
        f"(score seed {result.score_seed}, groove seed {result.groove_seed}, {result.elapsed_ms:.1f} ms)"
    )
    return 0


def _cmd_bench(args) -> int:
    if args.runs < 1:
        raise BeatGuideError(f"--runs must be at least 1, got {args.runs}")
    if args.starts < 1:
        raise BeatGuideError(f"--starts must be at least 1, got {args.starts}")
    if args.start:
        from .bench_start import run

        text = run(args.starts, args.first)
    elif args.osc:
        from .bench_osc import OscBenchConfig, run

        text = run(
            OscBenchConfig(
                args.models or [],
                args.runs,
                args.clients,
                args.steady,
                args.burst,
                args.threads,
                args.queue,
                args.in_process,
                args.note,
            )
        )
    else:
        from . import bench

        _models(args)
        report = bench.run_bench(args.models, args.runs, args.torch_runs if args.torch else None)
        print(bench.summary(report))
        print(bench.table(report))
        for n in report.notes:
            print(f"note: {n}")
        text = bench.markdown(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"wrote {args.out}")
    elif args.osc or args.start:
        print(text)
    return 0


def _cmd_eval(args) -> int:
    from .engine import Engine
    from .evaluate.report import run_eval
    from .gmd import load_split

    args.gmd = _gmd(args.gmd)
    _models(args)
    t0 = time.perf_counter()
    engine = Engine(args.models)
    windows = load_split(args.gmd, args.split, args.cache_dir)
    path = run_eval(
        engine, windows, args.what, args.out, split=args.split, seed=args.seed, limit=args.limit, started=t0
    )
    print(path.read_text())
    return 0


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
    )
    return 0


def _add_generate(sub) -> None:
    from .drums import INPUT_MAPS
    from .engine import LANE_MODES, LATENT_SOURCES

    g = sub.add_parser("generate", help="generate loops offline into MIDI files")
    g.add_argument("--model", default="agvae2", help="a model's name (see README, 'Models'; default agvae2)")
    g.add_argument("--score", type=Path, help="MIDI file: what to play (a drum clip)")
    g.add_argument("--groove", type=Path, help="MIDI file: how to play it (taps on any pitch)")
    g.add_argument("--accents", type=Path, help="MIDI file whose loud notes mark the accents")
    g.add_argument(
        "--lanes",
        default="",
        help=f"per-drum lane modes, e.g. 'kick=exact,crash=empty' "
        f"({'/'.join(LANE_MODES)}); lanes not listed take --all-lanes",
    )
    g.add_argument(
        "--all-lanes",
        choices=LANE_MODES,
        help="lane mode of every lane not in --lanes (default: given with a score, else decide)",
    )
    g.add_argument(
        "--latent-source",
        choices=LATENT_SOURCES,
        help="where latents of gestures not given come from: fitted (a mixture fitted to the training codes, "
        "conditioned on what is given; the default where the model has it), prior (N(0, I), as in the paper) or "
        "bank (real drummers' codes)",
    )
    g.add_argument("--variations", type=int, default=4)
    g.add_argument("--temperature", type=float, default=1.0)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--score-seed", type=int, help="keep the score latent of an earlier run")
    g.add_argument("--groove-seed", type=int, help="keep the groove latent of an earlier run")
    g.add_argument(
        "--start-bar",
        type=int,
        default=0,
        help="first bar of the 2-bar window read from each file (0: the file's first bar)",
    )
    g.add_argument(
        "--input-map",
        choices=sorted(INPUT_MAPS),
        default="gm",
        help="how score and accent pitches read as drums (gm: General MIDI, note_seq's map; "
        "gmd: the Groove MIDI Dataset's Roland kit)",
    )
    g.add_argument("--output-pitches", help="nine output pitches, kick..ride (default 36 38 42 46 45 48 50 49 51)")
    g.add_argument("--bpm", type=float, help="tempo of the files written (default: the input's, else 120)")
    g.add_argument("--models", type=Path, action="append", help="also look for models here (repeatable)")
    g.add_argument("--out", type=Path, required=True, help="folder for the MIDI files")
    g.add_argument("--force", action="store_true", help="overwrite files already in --out")
    g.set_defaults(func=_cmd_generate)


def _add_finetune(sub) -> None:
    from .drums import INPUT_MAPS

    f = sub.add_parser("finetune", help="fine-tune a model on your own drum MIDI files (needs the train extra)")
    f.add_argument("model", help="the model to start from, e.g. agvae2")
    f.add_argument("--midi", type=Path, required=True, help="folder of your drum MIDI files (sub-folders too)")
    f.add_argument("--name", required=True, help="the new model's name (it goes into your models folder)")
    f.add_argument("--minutes", type=float, default=10.0, help="time limit for training (default 10)")
    f.add_argument("--input-map", choices=sorted(INPUT_MAPS), default="gm", help="how pitches read as drums")
    f.add_argument("--force", action="store_true", help="replace your model of that name")
    f.add_argument("--models", type=Path, action="append", help="also look for models here (repeatable)")
    f.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    f.add_argument("--seed", type=int, default=0)
    f.set_defaults(func=_cmd_finetune)


def _add_bench(sub) -> None:
    be = sub.add_parser("bench", help="benchmarks: the engine, (--osc) OSC round trips, (--start) server start-up")
    be.add_argument(
        "--models", type=Path, action="append", help="also look for models here (repeatable; see README, 'Models')"
    )
    be.add_argument("--runs", type=int, default=200, help="timed calls per model and variation count")
    be.add_argument("--out", type=Path, help="write the markdown report here (default: print it)")
    be.add_argument("--torch", action="store_true", help="also time torch eager from the training checkpoints")
    be.add_argument(
        "--torch-runs",
        type=Path,
        default=Path("runs"),
        help="run folders for --torch, one per model kind (default ./runs, where train writes)",
    )
    osc = be.add_argument_group("OSC round trips (--osc)")
    osc.add_argument("--osc", action="store_true", help="start `beatguide serve` and time requests over UDP loopback")
    osc.add_argument("--clients", type=int, default=4, help="concurrent clients under steady load and in the burst")
    osc.add_argument("--steady", type=int, default=100, help="requests per client under steady load")
    osc.add_argument("--burst", type=int, default=25, help="requests per client in the burst")
    osc.add_argument("--threads", type=int, default=1, help="server worker threads (beatguide serve --threads)")
    osc.add_argument("--queue", type=int, default=32, help="server queue (beatguide serve --queue)")
    osc.add_argument("--in-process", action="store_true", help="run the server in this process")
    osc.add_argument("--note", action="append", default=[], help="a line for the report's notes")
    start = be.add_argument_group("server start-up (--start)")
    start.add_argument("--start", action="store_true", help="time `beatguide serve` from spawn to first pong; memory")
    start.add_argument("--starts", type=int, default=5, help="server starts to time")
    start.add_argument("--first", action="store_true", help="the first start is the first since the install")
    be.set_defaults(func=_cmd_bench)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="beatguide", description=__doc__)
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = p.add_subparsers(dest="command", required=True)
    gmd_default = Path(os.environ[GMD_ENV]) if os.environ.get(GMD_ENV) else None
    gmd_help = f"Groove MIDI Dataset folder (holds info.csv; default ${GMD_ENV})"

    data = sub.add_parser("data", help="build the Groove MIDI Dataset windows").add_subparsers(
        dest="data_cmd", required=True
    )
    b = data.add_parser("build", help="read info.csv, cut 2-bar windows, cache them")
    b.add_argument("--gmd", type=Path, default=gmd_default, help=gmd_help)
    b.add_argument("--split", action="append", choices=["train", "validation", "test"])
    b.add_argument(
        "--cache-dir", type=Path, help="where built arrays go (default ~/.cache/beatguide or $BEATGUIDE_CACHE)"
    )
    b.add_argument("--rebuild", action="store_true", help="ignore the cache")
    b.set_defaults(func=_cmd_data_build)

    t = sub.add_parser("train", help="train a model (needs the train extra)")
    t.add_argument("model", choices=["baseline", "factorized", "agvae2", "agvae11"])
    t.add_argument("--gmd", type=Path, default=gmd_default, help=gmd_help)
    t.add_argument("--out", type=Path, help="run folder (default runs/MODEL)")
    t.add_argument("--cache-dir", type=Path)
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--batch-size", type=int, default=256)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--patience", type=int, default=6, help="early stopping: epochs without validation improvement")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="cpu")
    t.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    t.add_argument("--limit", type=int, default=0, help="use only the first N training windows (smoke runs)")
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

    e = sub.add_parser("export", help="export a trained run to ONNX models (needs the train extra)")
    e.add_argument("run", type=Path, help="run folder with best.pt")
    e.add_argument(
        "--models",
        type=Path,
        default=user_models_dir(),
        help=f"where the model folder goes (default: your models folder, {user_models_dir()})",
    )
    e.add_argument("--results", type=Path, help="evaluation summary to put in the model card (docs/results.json)")
    e.add_argument("--gmd", type=Path, help="rebuild the latent bank and fit the fitted prior from this dataset")
    e.set_defaults(func=_cmd_export)

    _add_generate(sub)
    _add_finetune(sub)
    _add_bench(sub)

    ev = sub.add_parser("eval", help="reproduce the paper's tables on a split")
    ev.add_argument(
        "what", choices=["diversity", "swing", "lanes", "realism", "aux", "tap2drum", "sources", "leak", "exact", "all"]
    )
    ev.add_argument("--gmd", type=Path, default=gmd_default, help=gmd_help)
    ev.add_argument("--split", default="validation", choices=["validation", "test"])
    ev.add_argument(
        "--models", type=Path, action="append", help="also look for models here (repeatable; see README, 'Models')"
    )
    ev.add_argument("--cache-dir", type=Path)
    ev.add_argument(
        "--out", type=Path, required=True, help="folder for results.md and the plots (the repository's are in docs/)"
    )
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--limit", type=int, default=0, help="evaluate only the first N windows")
    ev.set_defaults(func=_cmd_eval)

    s = sub.add_parser("serve", help="serve the models over OSC on loopback UDP")
    s.add_argument(
        "--port", type=int, default=DEFAULT_SERVER_PORT, help="UDP port (0: a free one, announced on stdout)"
    )
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--allow-remote", action="store_true", help="accept datagrams from other hosts (not recommended)")
    s.add_argument(
        "--models", type=Path, action="append", help="also look for models here (repeatable; see README, 'Models')"
    )
    s.add_argument("--threads", type=int, default=1, help="inference worker threads")
    s.add_argument("--queue", type=int, default=32, help="pending requests before answering busy")
    s.add_argument(
        "--stop-on-stdin-close",
        action="store_true",
        help="stop when standard input closes (the device's launcher holds it open)",
    )
    s.set_defaults(func=_cmd_serve)
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
