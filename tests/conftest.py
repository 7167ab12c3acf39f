"""Shared fixtures and helpers: the shared Groove MIDI Dataset when present, a fake one, the models
folder, tiny exported models, MIDI files made message by message, the notes the protocol sends."""

from __future__ import annotations

import csv
import os
import socket
from pathlib import Path

import mido
import numpy as np
import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption(
        "--update-regression",
        action="store_true",
        help="rewrite tests/data/bundled_outputs.json from the bundled models (after retraining)",
    )


# CI runs the same examples every time (a failure there is reproducible and blocks nothing at
# random); local runs draw new ones and keep looking.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED_GMD = ROOT.parent / "shared" / "data" / "groove"


@pytest.fixture(scope="session")
def gmd_path() -> Path:
    if not (SHARED_GMD / "info.csv").is_file():
        pytest.skip(f"the Groove MIDI Dataset is not at {SHARED_GMD}")
    return SHARED_GMD


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The bundled models, or $BEATGUIDE_TEST_MODELS (which must hold models); skips when there are none."""
    env = os.environ.get("BEATGUIDE_TEST_MODELS")
    path = Path(env) if env else ROOT / "models"
    if not any(path.glob("*/model.json")):
        if env:
            pytest.fail(f"BEATGUIDE_TEST_MODELS={env} holds no */model.json")
        pytest.skip(f"no exported models in {path} (train and export them, or set BEATGUIDE_TEST_MODELS=DIR)")
    return path


@pytest.fixture
def midi_file(tmp_path):
    """A factory: ``midi_file(name, messages, ticks_per_beat=480)`` writes a one-track MIDI file with
    exactly those mido messages (no checks, so broken files can be made too) and returns its path."""

    def make(name: str, messages, ticks_per_beat: int = 480) -> Path:
        mid = mido.MidiFile(ticks_per_beat=ticks_per_beat)
        mid.tracks.append(mido.MidiTrack(messages))
        path = tmp_path / name
        mid.save(str(path))
        return path

    return make


@pytest.fixture
def fake_gmd(tmp_path) -> Path:
    """A tiny Groove MIDI Dataset layout: 3-bar and 1-bar 4/4 files and a 3/4 file in train, a 2-bar
    file in validation (kick and snare on every beat, 120 BPM)."""
    from beatguide.grid import Note
    from beatguide.midi_io import write_midi

    root = tmp_path / "groove"
    (root / "drummer1" / "session1").mkdir(parents=True)
    rows = []
    specs = [
        ("a", "4-4", 3, "train"),
        ("b", "4-4", 1, "train"),
        ("c", "3-4", 3, "train"),
        ("d", "4-4", 2, "validation"),
    ]
    for name, sig, bars, split in specs:
        rel = f"drummer1/session1/{name}.mid"
        notes = [Note(b * 4.0 + i, 36 if i % 2 == 0 else 38, 100) for b in range(bars) for i in range(4)]
        write_midi(root / rel, notes, 120)
        rows.append(
            {
                "drummer": "drummer1",
                "session": "drummer1/session1",
                "id": name,
                "style": "rock",
                "bpm": "120",
                "beat_type": "beat",
                "time_signature": sig,
                "midi_filename": rel,
                "audio_filename": "",
                "duration": str(bars * 2.0),
                "split": split,
            }
        )
    with open(root / "info.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return root


def drum_score() -> np.ndarray:
    """A (32, 9) score: kick on the beats, snare on 2 and 4, closed hi-hat on the 8ths. (Tests import it
    with ``from conftest import drum_score``.)"""
    s = np.zeros((32, 9), np.float32)
    s[::4, 0] = 1
    s[4::8, 1] = 1
    s[::2, 2] = 1
    return s


def free_port() -> int:
    """A UDP port on loopback that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reference_notes(loop) -> list[tuple]:
    """The notes the protocol sends for a loop, derived note by note with grid.loop_to_notes:
    (class, start as float32, duration, velocity), sorted by (start, class). (A helper: tests
    import it with ``from conftest import reference_notes``.)"""
    from beatguide import protocol as P
    from beatguide.grid import LOOP_BEATS, loop_to_notes

    out = []
    for n in loop_to_notes(loop, P.CLASS_MAP):
        start = float(np.float32(n.start))
        if start >= LOOP_BEATS:  # rounds up to the loop's end as a float32: the downbeat
            start = 0.0
        out.append((n.pitch, start, n.duration, n.velocity))
    return sorted(out, key=lambda n: (n[1], n[0]))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """All four models, small and freshly initialised, exported to ONNX (needs the train extra).
    Returns (folder, {kind: torch model})."""
    torch = pytest.importorskip("torch")
    from beatguide.registry import KINDS
    from beatguide_export.models import build
    from beatguide_export.onnx_export import export_model
    from beatguide_export.prior_fit import add_to_model

    loops = np.zeros((64, 32, 27), np.float32)  # windows to fit the prior to: random hits, velocities, offsets
    rng = np.random.default_rng(0)
    loops[..., :9] = rng.random((64, 32, 9)) < 0.3
    loops[..., 9:18] = loops[..., :9] * rng.uniform(0.2, 1.0, (64, 32, 9))
    loops[..., 18:] = loops[..., :9] * rng.uniform(-0.5, 0.5, (64, 32, 9))

    out = tmp_path_factory.mktemp("tiny_models")
    models = {}
    for kind in KINDS:
        torch.manual_seed(0)
        m = build(kind, enc_hidden=16, mlp_hidden=32, dec_hidden=32, dec_layers=1, free_bits=48.0).eval()
        hits = torch.rand(64, 32, 9).numpy() < 0.15
        bank = {"z": torch.randn(64, m.z_size).numpy(), "steps": hits.any(axis=2), "hits": hits}  # stand-ins
        export_model(m, out / kind, bank=bank)
        add_to_model(out / kind, loops[:48], loops[48:], components=(1, 2))
        models[kind] = m
    return out, models


@pytest.fixture
def tiny_drawing_model(tmp_path):
    """A small, freshly initialised AG-VAE 2 that draws its values (logistic head), exported alone to
    ``tmp_path / "agvae2"`` (needs the train extra), and a random score for it. Returns (folder, score)."""
    torch = pytest.importorskip("torch")
    from beatguide_export.models import build
    from beatguide_export.onnx_export import export_model

    torch.manual_seed(0)
    folder = tmp_path / "agvae2"
    export_model(build("agvae2", enc_hidden=16, mlp_hidden=32, dec_hidden=32, dec_layers=1, values="logistic"), folder)
    return folder, (np.random.default_rng(0).random((32, 9)) < 0.3).astype(np.float32)
