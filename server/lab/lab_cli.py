"""What the lab scripts share: the benchmarks' parser (--out, --force, --models) and a report written or
printed; the dataset studies' parser (--gmd, --models, --seed)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from beatguide.cli import GMD_ENV, HelpFormatter
from beatguide.errors import BeatGuideError


def parser(script: str, description: str, models: bool = False) -> argparse.ArgumentParser:
    """The parser of ``python server/lab/SCRIPT``, with --out and --force (and --models when asked)."""
    ap = argparse.ArgumentParser(
        prog=f"python server/lab/{script}", description=description, formatter_class=HelpFormatter
    )
    ap.add_argument("--out", type=Path, help="write the markdown report to this file (default: print it)")
    ap.add_argument("--force", action="store_true", help="overwrite the --out file when it exists")
    if models:
        ap.add_argument(
            "--models",
            type=Path,
            action="append",
            metavar="DIR",
            help="also look for models in this folder, before the others (repeatable)",
        )
    return ap


def study_parser(script: str, description: str) -> argparse.ArgumentParser:
    """The parser of a study on the dataset, ``python server/lab/SCRIPT``: --gmd, --models, --seed."""
    ap = argparse.ArgumentParser(prog=f"python server/lab/{script}", description=description)
    ap.add_argument("--gmd", type=Path, default=os.environ.get(GMD_ENV), help=f"dataset folder (default: ${GMD_ENV})")
    ap.add_argument("--models", type=Path, action="append", help="model folders (default: the shipped models)")
    ap.add_argument("--seed", type=int, default=0)
    return ap


def study_args(ap: argparse.ArgumentParser, argv) -> argparse.Namespace:
    """``argv`` parsed by a study's parser; a usage error when no dataset folder is known."""
    args = ap.parse_args(argv)
    if args.gmd is None:
        ap.error(f"give --gmd or set ${GMD_ENV}")
    return args


def at_least_one(text: str) -> int:
    """A whole number, 1 or more (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number, 1 or more, got {text!r}")
    return value


def report(ap: argparse.ArgumentParser, argv, make: Callable[[argparse.Namespace], str], show: bool = True) -> int:
    """Parse ``argv``, refuse an --out file already there (unless --force), then write the report ``make``
    returns to --out, or print it (when ``show``). A user's error is one line and exit status 2."""
    args = ap.parse_args(argv)
    if args.out and args.out.exists() and not args.force:
        ap.error(f"{args.out} already exists: give --force to overwrite, or another file with --out")
    try:
        text = make(args)
    except BeatGuideError as e:
        ap.exit(2, f"{ap.prog}: error: {e}\n")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"wrote {args.out}")
    elif show:
        print(text)
    return 0
