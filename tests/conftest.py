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


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """All four models, small and freshly initialised, exported to ONNX (needs the train extra).
    Returns (folder, {kind: torch model})."""
    torch = pytest.importorskip("torch")
    from beatguide_export.models import MODEL_KINDS, build
    from beatguide_export.onnx_export import export_model

    out = tmp_path_factory.mktemp("tiny_models")
    models = {}
    for kind in MODEL_KINDS:
        torch.manual_seed(0)
        m = build(kind, enc_hidden=16, mlp_hidden=32, dec_hidden=32, dec_layers=1).eval()
        bank = torch.randn(16, m.z_size).numpy()  # a stand-in for the real codes training writes
        export_model(m, out / kind, bank=bank)
        models[kind] = m
    return out, models
