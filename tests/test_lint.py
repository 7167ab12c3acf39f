"""ruff's lint and format check over the tree (configured in pyproject.toml), so that a change that
breaks them fails here, before CI: fix with `ruff check --fix . && ruff format .`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUFF = shutil.which("ruff")


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed (pip install -e '.[test]' brings it)")
@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff(command):
    r = subprocess.run([RUFF, *command], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, f"ruff {' '.join(command)}:\n{r.stdout[-4000:]}{r.stderr[-2000:]}"
