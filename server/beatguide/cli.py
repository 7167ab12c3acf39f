"""The ``beatguide`` command line: data, train, export, generate, bench, eval, serve."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from .errors import BeatGuideError
from .model_paths import user_models_dir
from .protocol import DEFAULT_SERVER_PORT

EXIT_USER_ERROR = 2
GMD_ENV = "BEATGUIDE_GMD"
GMD_URL = "https://magenta.tensorflow.org/datasets/groove"


def _gmd(path: Path | None) -> Path:
    """The Groove MIDI Dataset folder: ``--gmd``, else ``$BEATGUIDE_GMD``."""
    if path is None:
        raise BeatGuideError(f"where is the Groove MIDI Dataset? Give --gmd DIR or set ${GMD_ENV} "
                             f"(download it from {GMD_URL})")
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
        mean_hits = float(w.loops[:, :, :9].sum(axis=(1, 2)).mean()) if len(w) else 0.0
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


def _cmd_generate(args) -> int:
    from .generate import generate_cli

    _models(args)
    return generate_cli(args)


def _cmd_bench(args) -> int:
    from .bench import bench_cli

    _models(args)
    return bench_cli(args)


def _cmd_eval(args) -> int:
    from .evaluate.report import eval_cli

    args.gmd = _gmd(args.gmd)
    _models(args)
    return eval_cli(args)


def _cmd_serve(args) -> int:
    from .osc_server import serve

    _models(args)
    serve(args.models, args.host, args.port, threads=args.threads, queue_size=args.queue,
          allow_remote=args.allow_remote, stop_on_stdin_close=args.stop_on_stdin_close)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="beatguide", description=__doc__)
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = p.add_subparsers(dest="command", required=True)
    gmd_default = Path(os.environ[GMD_ENV]) if os.environ.get(GMD_ENV) else None
    gmd_help = f"Groove MIDI Dataset folder (holds info.csv; default ${GMD_ENV})"

    data = sub.add_parser("data", help="build the Groove MIDI Dataset windows").add_subparsers(dest="data_cmd", required=True)
    b = data.add_parser("build", help="read info.csv, cut 2-bar windows, cache them")
    b.add_argument("--gmd", type=Path, default=gmd_default, help=gmd_help)
    b.add_argument("--split", action="append", choices=["train", "validation", "test"])
    b.add_argument("--cache-dir", type=Path, help="where built arrays go (default ~/.cache/beatguide or $BEATGUIDE_CACHE)")
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
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("export", help="export a trained run to ONNX models (needs the train extra)")
    e.add_argument("run", type=Path, help="run folder with best.pt")
    e.add_argument("--models", type=Path, default=user_models_dir(),
                   help=f"where the model folder goes (default: your models folder, {user_models_dir()})")
    e.add_argument("--results", type=Path, help="evaluation summary to put in the model card (docs/results.json)")
    e.set_defaults(func=_cmd_export)

    g = sub.add_parser("generate", help="generate loops offline into MIDI files")
    from .generate import add_generate_args
    add_generate_args(g)
    g.set_defaults(func=_cmd_generate)

    be = sub.add_parser("bench", help="latency benchmark of the bundled models")
    be.add_argument("--models", type=Path, action="append",
                   help="also look for models here (repeatable; see README, 'Models')")
    be.add_argument("--runs", type=int, default=200)
    be.add_argument("--torch", action="store_true", help="also time torch eager from the training checkpoints")
    be.add_argument("--torch-runs", type=Path, default=Path("runs"),
                    help="run folders for --torch, one per model kind (default ./runs, where train writes)")
    be.add_argument("--out", type=Path, help="write the markdown table here")
    be.set_defaults(func=_cmd_bench)

    ev = sub.add_parser("eval", help="reproduce the paper's tables on a split")
    ev.add_argument("what", choices=["diversity", "swing", "lanes", "realism", "sources", "leak", "exact", "all"])
    ev.add_argument("--gmd", type=Path, default=gmd_default, help=gmd_help)
    ev.add_argument("--split", default="validation", choices=["validation", "test"])
    ev.add_argument("--models", type=Path, action="append",
                   help="also look for models here (repeatable; see README, 'Models')")
    ev.add_argument("--cache-dir", type=Path)
    ev.add_argument("--out", type=Path, default=Path("docs"))
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--limit", type=int, default=0, help="evaluate only the first N windows")
    ev.set_defaults(func=_cmd_eval)

    s = sub.add_parser("serve", help="serve the models over OSC on loopback UDP")
    s.add_argument("--port", type=int, default=DEFAULT_SERVER_PORT, help="UDP port (0: a free one, announced on stdout)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--allow-remote", action="store_true", help="accept datagrams from other hosts (not recommended)")
    s.add_argument("--models", type=Path, action="append",
                   help="also look for models here (repeatable; see README, 'Models')")
    s.add_argument("--threads", type=int, default=1, help="inference worker threads")
    s.add_argument("--queue", type=int, default=32, help="pending requests before answering busy")
    s.add_argument("--stop-on-stdin-close", action="store_true",
                   help="stop when standard input closes (the device's launcher holds it open)")
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
