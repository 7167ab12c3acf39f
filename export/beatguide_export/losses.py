"""The training objective: reconstruction + auxiliary reconstructions + beta * KL above free bits."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from beatguide.grid import TOP_VELOCITY

from .models import (
    N_DRUMS,
    WIDTH,
    DrumVAE,
    free_nats,
    kl_per_latent,
    value_locations,
    value_scales,
)


def loop_terms(raw, target, values: str = "mean", scored=None, censored: bool = False) -> dict:
    """Hit BCE and velocity and offset squared error (GrooVAE), summed over steps and drums, mean over
    the batch; with ``values="logistic"`` also the negative log-likelihood of the played notes' values
    under the distribution head's logistic distributions. ``censored``: a velocity at the top (127)
    scores the chance of a draw reaching the top, where draws are clamped, not a density there.
    ``scored`` (B,) bool: the loops whose values count (all if None); hits count for every loop."""
    n = raw.shape[0]
    hits = target[..., :N_DRUMS]
    terms = {"hits": F.binary_cross_entropy_with_logits(raw[..., :N_DRUMS], hits, reduction="sum") / n}
    keep = 1.0 if scored is None else scored.to(raw.dtype)[:, None, None]
    vel, off = value_locations(raw)
    terms["velocity"] = (keep * (vel - target[..., N_DRUMS : 2 * N_DRUMS]) ** 2).sum() / n
    terms["offset"] = (keep * (off - target[..., 2 * N_DRUMS : WIDTH]) ** 2).sum() / n
    if values == "logistic":  # the played notes' values under the distribution head (its own parameters)
        loc = torch.cat(value_locations(raw, head=True, wide=censored), -1)
        x, scale = target[..., N_DRUMS:WIDTH], value_scales(raw)
        nll = logistic_nll(x, loc, scale)
        if censored:  # one real hit in seven sits at 127: as a density it pulls the spread to its floor
            top = torch.zeros_like(x, dtype=torch.bool)
            top[..., :N_DRUMS] = x[..., :N_DRUMS] >= TOP_VELOCITY
            nll = torch.where(top, F.softplus((TOP_VELOCITY - loc) / scale), nll)  # -log P(draw >= top)
        nll = nll * torch.cat([hits, hits], -1)
        terms["value_spread"] = (keep * nll).sum() / n
    return terms


def logistic_nll(x, loc, scale):
    """Negative log-density of x under logistic distributions."""
    z = (x - loc) / scale
    return z + 2 * F.softplus(-z) + torch.log(scale)


def aux_terms(aux: dict, gestures: dict) -> dict:
    """Loss of each auxiliary decoder against the gesture it rebuilds."""
    out = {}
    for name, raw in aux.items():
        x = gestures[name]
        n = x.shape[0]
        if name == "groove":
            out["aux_groove"] = (
                F.binary_cross_entropy_with_logits(raw[..., 0], x[..., 0], reduction="sum")
                + ((torch.sigmoid(raw[..., 1]) - x[..., 1]) ** 2).sum()
                + ((torch.tanh(raw[..., 2]) - x[..., 2]) ** 2).sum()
            ) / n
        else:
            out[f"aux_{name}"] = F.binary_cross_entropy_with_logits(raw, x, reduction="sum") / n
    return out


def total_loss(model: DrumVAE, post, raw, aux, gestures, target, beta: float, scored=None):
    """(loss, terms): every term is a detached float for logging; KL per latent group in nats; ``recon``
    the objective without its KL penalty.
    ``scored``: the loops whose velocities and offsets count (``loop_terms``)."""
    terms = loop_terms(raw, target, model.config.values, scored, model.config.censored)
    terms.update(aux_terms(aux, gestures))
    kls = kl_per_latent(model, post)
    free = free_nats(model)
    kl_pen = sum(torch.clamp(kls[k] - free[k], min=0.0) for k in kls)
    recon = sum(terms.values())
    loss = recon + beta * kl_pen
    logged = {k: float(v.detach()) for k, v in terms.items()}
    logged["recon"] = float(recon.detach())
    logged["kl"] = float(sum(kls.values()).detach())
    logged.update({f"kl_{k}": float(v.detach()) for k, v in kls.items()})
    logged["loss"] = float(loss.detach())
    return loss, logged
