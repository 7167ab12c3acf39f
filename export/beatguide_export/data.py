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


def delete_lanes(gest: dict, target, share: float):
    """Training-time lane deletion: in a share of the loops that play two drums or more, one drum they
    play is removed from the target and from the score-side gestures (score, lanes), while the groove
    and accents keep its taps. The decoder learns that a drum missing from the score stays silent
    whatever the groove taps (a lane set empty, with the drummer's own groove). Returns new tensors."""
    played = gest["score"].amax(dim=1) > 0.5  # (n, 9)
    chosen = (torch.rand(len(target)) < share) & (played.sum(dim=1) >= 2)
    drum = torch.where(played, torch.rand(played.shape), -1.0).argmax(dim=1)
    keep = 1.0 - (torch.nn.functional.one_hot(drum, played.shape[1]).bool() & chosen[:, None]).float()
    gest = dict(gest, score=gest["score"] * keep[:, None, :], lanes=gest["lanes"] * keep[:, :, None])
    return gest, target * keep.repeat(1, target.shape[-1] // keep.shape[1])[:, None, :]


def load(gmd, split: str, cache_dir=None, limit: int = 0) -> WindowSet:
    loops = load_split(gmd, split, cache_dir).loops
    return WindowSet(loops[:limit] if limit else loops)
