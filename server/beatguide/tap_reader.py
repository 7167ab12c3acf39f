"""The tap reader: which drums a drummer plays under a tapped groove (GrooVAE's Tap2Drum task).

Given taps alone, the models must guess the whole score. Their latent space was trained to rebuild a
score from its own code, not to read one from taps: the score side's latents at the fitted prior's
mean given the groove's code play the drummer's hits at per-loop F1 0.46 (docs/results.md, "Tap2Drum").
The reader is a small network trained for exactly that reading (per step and drum, the chance of a
hit under these taps). Its best guess, the cells above a threshold chosen on the validation split,
is handed to the model as the score, so the first variation of a taps-alone request plays it; the
other variations stay draws. Trained with ``python -m beatguide_export.tap_reader``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from . import model_files
from .errors import ModelError
from .grid import STEPS

FOLDER = "tap_reader"  # inside a models folder
META_FILE = "reader.json"


class TapReader:
    """One exported tap reader: taps (B, 32, 3) -> hit probabilities (B, 32, 9)."""

    def __init__(self, folder: Path, threads: int = 1):
        self.folder = Path(folder)
        try:
            self.meta = json.loads((self.folder / META_FILE).read_text())
            self.threshold = float(self.meta["threshold"])
            fname = self.meta["file"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ModelError(f"{self.folder}: unreadable {META_FILE} ({e})") from None
        path = self.folder / fname
        blob = model_files.read(path)
        if hashlib.sha256(blob).hexdigest() != self.meta.get("sha256"):
            raise ModelError(f"{path}: file is corrupt (checksum differs from {META_FILE})")
        self.session = model_files.session(blob, path, threads)

    @classmethod
    def find(cls, dirs, threads: int = 1) -> TapReader | None:
        """The reader of the first models folder in ``dirs`` that holds one (None if none does)."""
        for d in dirs:
            if (Path(d) / FOLDER / META_FILE).is_file():
                return cls(Path(d) / FOLDER, threads)
        return None

    def probabilities(self, taps: np.ndarray) -> np.ndarray:
        """Per step and drum, the chance of a hit (B, 32, 9) under taps (B, 32, 3)."""
        taps = np.asarray(taps, np.float32)
        if taps.ndim != 3 or taps.shape[1:] != (STEPS, 3):
            raise ValueError(f"taps must have shape (B, {STEPS}, 3), got {taps.shape}")
        return self.session.run(None, {"taps": taps})[0]

    def best_guess(self, taps: np.ndarray) -> np.ndarray:
        """The score (B, 32, 9) of 0 / 1 the reader reads from the taps: the cells above its threshold."""
        return (self.probabilities(taps) > self.threshold).astype(np.float32)
