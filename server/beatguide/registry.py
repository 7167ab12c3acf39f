"""The model kinds: what each kind of model is, written once.

A kind is an architecture of the paper (baseline VAE, factorized VAE, AG-VAE 2, AG-VAE 11): the
latents it encodes (from which gestures, drawn from which seed), what a request must give it, and
how it is built. Everything that lists or names kinds reads :data:`KINDS`: the CLI's choices,
training (whose per-kind config is keyed by these names), export, the model cards, evaluation and
the device spec. A trained model's model.json says what that model has (its sizes, capabilities,
files); its ``kind`` is one of these. Numpy-free, so the device build and the CLI can read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .drums import N_CLASSES

SCORE_SIDE = ("score", "lanes")  # gestures whose latents are drawn from the score seed; the rest from the groove seed


@dataclass(frozen=True)
class Latent:
    """One latent: its name, size (``dim``, unless a training config sets another), the gesture it
    encodes and how many of it sit side by side (``groups``: one per lane)."""

    name: str
    dim: int
    gesture: str
    groups: int = 1

    @property
    def size(self) -> int:
        return self.dim * self.groups

    @property
    def score_side(self) -> bool:
        return self.gesture in SCORE_SIDE


@dataclass(frozen=True)
class ModelKind:
    """A kind of model: its name (model.json's ``kind``, ``beatguide train``'s argument, the shipped
    model's folder), title as shown to users, a description (the model card's first paragraph), its
    latents in the model's order, what a request must give at least (``needs``, one of the
    protocol's NEEDS), its encoders ("lstm": a bidirectional LSTM per gesture; "mlp": small MLPs, one
    per lane) and whether auxiliary decoders rebuild each gesture from its own latent (the AG-VAEs)."""

    name: str
    title: str
    description: str
    latents: tuple[Latent, ...]
    needs: str
    encoders: str = "lstm"
    aux: bool = False

    @property
    def gestures(self) -> tuple[str, ...]:
        """The gestures it reads, sorted (as model.json's capabilities list them)."""
        return tuple(sorted({lat.gesture for lat in self.latents}))


BASELINE = ModelKind(
    "baseline",
    "Baseline VAE",
    "GrooVAE humanize: a bidirectional LSTM encodes the drum score into one latent; an autoregressive "
    "LSTM decoder writes the performance (hits, velocities, offsets).",
    (Latent("z", 128, "score"),),
    needs="score",
)
FACTORIZED = ModelKind(
    "factorized",
    "Factorized VAE",
    "Factorized VAE: the score and the groove each get a bidirectional LSTM encoder and a latent; the two "
    "latents are concatenated and decoded by one LSTM (no auxiliary decoders).",
    (Latent("score", 64, "score"), Latent("groove", 64, "groove")),
    needs="score_or_groove",
)
AGVAE2 = ModelKind(
    "agvae2",
    "AG-VAE 2",
    "Auxiliary Guided VAE, 2 inputs: the factorized VAE plus auxiliary decoders rebuilding the score from "
    "the score latent alone and the groove from the groove latent alone.",
    FACTORIZED.latents,
    needs="score_or_groove",
    aux=True,
)
AGVAE11 = ModelKind(
    "agvae11",
    "AG-VAE 11",
    "Auxiliary Guided VAE, 11 inputs: nine per-drum lane latents, a groove latent and an accent latent, "
    "small MLP encoders and auxiliary decoders, an LSTM main decoder.",
    (Latent("lanes", 8, "lanes", groups=N_CLASSES), Latent("groove", 32, "groove"), Latent("accents", 8, "accents")),
    needs="any",
    encoders="mlp",
    aux=True,
)
KINDS = {k.name: k for k in (BASELINE, FACTORIZED, AGVAE2, AGVAE11)}  # in the paper's order
DEFAULT_MODEL = AGVAE2.name  # beatguide generate's model when none is named


def kind(name: str) -> ModelKind:
    """The kind called ``name``; ValueError for an unknown one."""
    if name not in KINDS:
        raise ValueError(f"unknown model kind {name!r}: one of {', '.join(KINDS)}")
    return KINDS[name]
