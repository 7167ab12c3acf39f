"""export/lab/swap_values.py: decoder fine-tunes with another window's groove code."""

import numpy as np
import pytest

pytest.importorskip("torch")

import swap_values  # noqa: E402
from beatguide.gmd import same_file_partners  # noqa: E402


def test_the_study_trains_the_decoder_and_keeps_the_encoders():
    from types import SimpleNamespace

    import torch

    from beatguide_export.models import build

    torch.manual_seed(0)
    m = build(
        "agvae2",
        enc_hidden=16,
        mlp_hidden=32,
        dec_hidden=32,
        free_bits=48.0,
        values="logistic",
        censored=True,
        history=True,
    )
    enc = [p.detach().clone() for p in m.encoders.parameters()]
    dec = [p.detach().clone() for p in m.decoder.parameters()]
    rng = np.random.default_rng(0)
    loops = np.zeros((12, 32, 27), np.float32)
    loops[..., :9] = rng.random((12, 32, 9)) < 0.2
    loops[..., 9:18] = loops[..., :9] * rng.uniform(0.2, 1.0, (12, 32, 9))
    train = SimpleNamespace(loops=loops, file_index=np.repeat([0, 1], 6), start_bar=np.tile(np.arange(6), 2))
    partners = same_file_partners(train.file_index, train.start_bar, np.random.default_rng(0))
    for variant in swap_values.VARIANTS:
        history = swap_values.refit(m, train, partners, variant, epochs=1, lr=1e-3, seed=0)
        assert len(history) == 1 and np.isfinite(history[0])
    assert all(torch.equal(a, b) for a, b in zip(enc, m.encoders.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(dec, m.decoder.parameters()))
