"""Build the Beat Guide Max for Live device: `python m4l_device/build.py [--out DIR]`.

Writes `Beat Guide.amxd` (a MIDI effect) and the JavaScript files it loads into DIR
(default m4l_device/dist/). Python standard library only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from patcher import patcher  # noqa: E402

DEVICE_NAME = "Beat Guide.amxd"
JS_FILES = ("beatguide.js", "bg_core.js", "bg_grid.js")


def amxd_bytes(patch: dict) -> bytes:
    """The .amxd container: ampf/mmmm header, meta chunk, ptch chunk holding the null-terminated JSON."""
    body = json.dumps(patch, indent=1).encode("utf-8") + b"\0"
    return (b"ampf" + struct.pack("<I", 4) + b"mmmm"
            + b"meta" + struct.pack("<II", 4, 0)
            + b"ptch" + struct.pack("<I", len(body)) + body)


def build(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    device = out / DEVICE_NAME
    device.write_bytes(amxd_bytes(patcher()))
    for name in JS_FILES:
        shutil.copyfile(HERE / name, out / name)
    return device


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "dist", help="output folder (default m4l_device/dist)")
    args = ap.parse_args(argv)
    print(build(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
