"""The Max for Live device: build it, then run its Node tests (m4l_device/tests/) against the build."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEVICE = ROOT / "m4l_device"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def test_build_writes_the_device(tmp_path):
    subprocess.run([sys.executable, str(DEVICE / "build.py"), "--out", str(tmp_path)], check=True)
    data = (tmp_path / "Beat Guide.amxd").read_bytes()
    assert data[:12] == b"ampf\x04\x00\x00\x00mmmm"
    for name in ("beatguide.js", "bg_core.js", "bg_grid.js"):
        assert (tmp_path / name).is_file()


def test_node_tests(tmp_path):
    subprocess.run([sys.executable, str(DEVICE / "build.py"), "--out", str(tmp_path)], check=True)
    if not (DEVICE / "node_modules" / "acorn").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("m4l_device/node_modules is missing and npm is not installed to run `npm ci`")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(DEVICE)], check=True)
    env = dict(os.environ, BG_DEVICE_DIR=str(tmp_path), PYTHON=sys.executable)
    tests = sorted(str(p.relative_to(DEVICE)) for p in (DEVICE / "tests").glob("*.test.js"))
    proc = subprocess.run(["node", "--test", *tests], cwd=DEVICE, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
