"""Shared fixtures: the shared Groove MIDI Dataset when present, the models folder, tiny MIDI files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_GMD = ROOT.parent / "shared" / "data" / "groove"


@pytest.fixture(scope="session")
def gmd_path() -> Path:
    if not (SHARED_GMD / "info.csv").is_file():
        pytest.skip(f"the Groove MIDI Dataset is not at {SHARED_GMD}")
    return SHARED_GMD


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The bundled models (or $BEATGUIDE_TEST_MODELS); skips when there are none."""
    path = Path(os.environ.get("BEATGUIDE_TEST_MODELS", ROOT / "models"))
    if not any(path.glob("*/model.json")):
        pytest.skip(f"no exported models in {path}")
    return path
