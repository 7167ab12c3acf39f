"""Training tensors: GMD windows and their gestures, computed by the runtime's gesture functions."""

from __future__ import annotations

import numpy as np
import torch

from beatguide import gestures
from beatguide.gmd import load_split


def gesture_arrays(loops: np.ndarray) -> dict:
    """Every gesture of a batch of loops (N, 32, 27), as numpy arrays."""
    return {
        "score": gestures.score(loops),
        "groove": gestures.groove(loops),
        "lanes": gestures.lanes(loops),
        "accents": gestures.accents(loops),
    }


class WindowSet:
    """A split's loops and gestures as tensors, served in shuffled batches."""

    def __init__(self, loops: np.ndarray):
        self.loops = torch.from_numpy(np.ascontiguousarray(loops, np.float32))
        self.gestures = {k: torch.from_numpy(v) for k, v in gesture_arrays(loops).items()}

    def __len__(self) -> int:
        return len(self.loops)

    def batches(self, batch_size: int, generator: torch.Generator | None = None):
        order = torch.randperm(len(self), generator=generator) if generator is not None else torch.arange(len(self))
        for i in range(0, len(self), batch_size):
            idx = order[i : i + batch_size]
            yield {k: v[idx] for k, v in self.gestures.items()}, self.loops[idx]


def load(gmd, split: str, cache_dir=None, limit: int = 0) -> WindowSet:
    loops = load_split(gmd, split, cache_dir).loops
    return WindowSet(loops[:limit] if limit else loops)
