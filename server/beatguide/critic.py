"""The critic: of several whole draws of a request, keep the one that plays most like a drummer.

A loop's realism rests less on each note's draw than on which groove code plays the score
(docs/ablation.md, "A critic's pick"). The critic, a small network trained to tell the train split's
drummers from the model's own humanizations (``beatguide_export.critic``), scores ``candidates``
draws of a request (each from a seed of its own: latents where the request sets no seed, loop-level
feel and notes) and the engine keeps the draw whose variations score highest on average, with its
seeds, so that locking a seed keeps what was heard. A discriminator choosing among a generator's
samples, as in discriminator rejection sampling (Azadi et al., 2019), keeping the best of a fixed
number so that a request's cost is bounded.
"""

from __future__ import annotations

import numpy as np

CRITIC_ROLE = "critic"  # its file's role in model.json's "files"
MAX_CANDIDATES = 16  # the most draws of one request the critic chooses among


class Critic:
    """A model's critic session and the number of candidates it keeps one of by default."""

    def __init__(self, session, candidates: int):
        if not 1 <= candidates <= MAX_CANDIDATES:
            raise ValueError(f"candidates must be 1-{MAX_CANDIDATES}, got {candidates}")
        self.session = session
        self.candidates = int(candidates)

    def scores(self, loops: np.ndarray) -> np.ndarray:
        """How much each loop (..., 32, 27) plays like a drummer's (a logit: higher is more)."""
        flat = np.asarray(loops, np.float32).reshape(-1, *loops.shape[-2:])
        return self.session.run(None, {"loops": flat})[0].reshape(loops.shape[:-2])
