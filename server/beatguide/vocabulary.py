"""What a generate request may ask for: its lane modes (and the default one), latent sources and limits.

The engine honours these words and the protocol numbers them on the wire (an index into each
tuple), so they live here, read by both, rather than in either.
"""

from __future__ import annotations

MAX_VARIATIONS = 8
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 3.0
LANE_MODES = ("decide", "given", "empty", "exact")
LATENT_SOURCES = ("prior", "bank", "fitted")  # the protocol numbers them in this order
DEFAULT_SOURCES = ("bank", "fitted", "prior")  # a request that names none gets the first the model has


def default_lane_mode(score_given: bool) -> str:
    """The mode of every lane a request leaves unset: given when a score is sent, else decide."""
    return "given" if score_given else "decide"
