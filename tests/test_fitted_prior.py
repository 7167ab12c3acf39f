"""The fitted prior: conditional draws of a Gaussian mixture, and its place in the engine."""

import json

import numpy as np
import pytest

from beatguide.engine import PRIOR_FILE, Engine, Request
from beatguide.errors import InputError, ModelError
from beatguide.fitted_prior import FittedPrior
from conftest import drum_score as _score

N = 20000


def _draws(prior, x, observed, seed=0, temperature=1.0):
    rng = np.random.default_rng(seed)
    return prior.sample(
        np.repeat(np.asarray(x, float)[None], N, 0),
        observed,
        rng.random(N),
        rng.standard_normal((N, prior.size)),
        temperature,
    )


def test_one_gaussian_conditions_as_the_textbook_says():
    cov = np.array([[1.0, 0.8, 0.0], [0.8, 1.0, 0.3], [0.0, 0.3, 2.0]])
    prior = FittedPrior([1.0], [[1.0, -1.0, 0.5]], cov[None])
    obs = np.array([True, False, False])
    d = _draws(prior, [2.0, 0, 0], obs)
    assert np.all(d[:, 0] == 2.0)  # observed values are kept
    mean = np.array([-1.0, 0.5]) + cov[1:, :1] @ np.linalg.inv(cov[:1, :1]) @ np.array([1.0])
    var = cov[1:, 1:] - cov[1:, :1] @ np.linalg.inv(cov[:1, :1]) @ cov[:1, 1:]
    assert np.allclose(d[:, 1:].mean(0), mean, atol=0.03)
    assert np.allclose(np.cov(d[:, 1:].T), var, atol=0.05)
    cold = _draws(prior, [2.0, 0, 0], obs, temperature=0.5)
    assert np.allclose(np.cov(cold[:, 1:].T), 0.25 * var, atol=0.03)  # temperature scales the spread


def test_nothing_observed_draws_the_whole_mixture():
    prior = FittedPrior([0.25, 0.75], [[-5.0, 0.0], [5.0, 0.0]], np.stack([np.eye(2)] * 2))
    d = _draws(prior, [0, 0], np.zeros(2, bool))
    assert abs((d[:, 0] > 0).mean() - 0.75) < 0.02


def test_the_observed_part_picks_the_component():
    means = [[-5.0, -3.0], [5.0, 3.0]]
    prior = FittedPrior([0.5, 0.5], means, np.stack([np.eye(2) * 0.5] * 2))
    d = _draws(prior, [4.0, 0], np.array([True, False]))
    assert np.allclose(d[:, 1].mean(), 3.0, atol=0.03)  # from the component near x = 4 only
    assert np.all(prior.sample(np.ones((3, 2)), np.ones(2, bool), np.zeros(3), np.zeros((3, 2))) == 1.0)


def test_bad_arrays_are_refused():
    with pytest.raises(ValueError):
        FittedPrior([1.0], [[0.0, 0.0]], np.eye(3)[None])


# -- in the engine (the shipped models)


@pytest.fixture(scope="module")
def engine(models_dir):
    return Engine(models_dir)


def test_the_bank_is_the_default_then_the_fitted_prior(engine):
    for name in engine.names:
        m = engine.models[name]
        assert m.default_source == ("bank" if m.bank is not None else "fitted" if m.prior is not None else "prior")
    one = {"candidates": 1}  # one draw each (a critic picks a request's draws together: beatguide.critic)
    r = engine.generate(Request("agvae2", 4, seed=3, score=_score(), **one))
    b = engine.generate(Request("agvae2", 4, seed=3, score=_score(), latent_source="bank", **one))
    f = engine.generate(Request("agvae2", 4, seed=3, score=_score(), latent_source="fitted", **one))
    assert np.array_equal(r.loops, b.loops) and not np.array_equal(r.loops, f.loops)
    assert np.array_equal(r.z[:, :64], f.z[:, :64])  # the given score's latent is the same either way


def test_fitted_draws_follow_the_seeds(engine):
    def z(**kw):
        return engine.generate(Request("agvae2", 3, score=_score(), latent_source="fitted", candidates=1, **kw)).z

    assert np.array_equal(z(seed=1), z(seed=1))
    assert not np.allclose(z(seed=1)[:, 64:], z(seed=2)[:, 64:])
    assert np.array_equal(z(seed=5, groove_seed=9)[:, 64:], z(seed=6, groove_seed=9)[:, 64:])  # same groove seed
    one = engine.generate(Request("agvae2", 1, seed=4, score=_score(), latent_source="fitted", candidates=1)).z
    assert np.allclose(one[0], z(seed=4)[0])  # variation k is draw k, whatever the count (one draw)


def test_fitted_draws_sit_where_the_training_codes_are(engine):
    """The groove latents drawn for a score lie as far from the origin as the training codes the
    prior was fitted to, not where N(0, I) puts them."""
    m = engine.models["agvae2"]
    mix = np.einsum("k,kd->d", m.prior.weights, m.prior.means)
    fitted = engine.generate(Request("agvae2", 8, seed=0, score=_score(), latent_source="fitted")).z[:, 64:]
    normal = engine.generate(Request("agvae2", 8, seed=0, score=_score(), latent_source="prior")).z[:, 64:]
    assert np.linalg.norm(fitted - mix[64:], axis=1).mean() < np.linalg.norm(normal - mix[64:], axis=1).mean()


def test_a_model_without_a_fitted_prior_says_so(tmp_path, models_dir):
    import shutil

    shutil.copytree(models_dir / "agvae2", tmp_path / "agvae2")
    meta = json.loads((tmp_path / "agvae2" / "model.json").read_text())
    meta.pop("prior")
    meta["capabilities"]["latent_sources"].remove("fitted")
    (tmp_path / "agvae2" / "model.json").write_text(json.dumps(meta))
    eng = Engine(tmp_path)
    assert eng.models["agvae2"].default_source == "bank"
    eng.generate(Request("agvae2", score=_score()))
    with pytest.raises(InputError, match="no 'fitted' latent source"):
        eng.generate(Request("agvae2", score=_score(), latent_source="fitted"))
    meta.pop("bank")
    meta["capabilities"]["latent_sources"].remove("bank")
    (tmp_path / "agvae2" / "model.json").write_text(json.dumps(meta))
    assert Engine(tmp_path).models["agvae2"].default_source == "prior"


def test_a_corrupt_fitted_prior_fails_at_load(tmp_path, models_dir):
    import shutil

    shutil.copytree(models_dir / "agvae2", tmp_path / "agvae2")
    (tmp_path / "agvae2" / PRIOR_FILE).write_bytes(b"not a mixture")
    with pytest.raises(ModelError, match="corrupt"):
        Engine(tmp_path)


def test_map_adaptation_moves_the_components_that_explain_the_codes():
    """FittedPrior.adapted: a component with n codes moves n / (n + relevance) of the way to their mean,
    one far from them stays; weights shift toward the codes' component and sum to 1; covariances kept."""
    prior = FittedPrior([0.5, 0.5], [[0.0, 0.0], [50.0, 50.0]], np.stack([np.eye(2)] * 2))
    codes = np.random.default_rng(0).standard_normal((48, 2)) + [2.0, -1.0]
    adapted = prior.adapted(codes, relevance=16.0)
    assert np.allclose(adapted.means[0], 48 / 64 * codes.mean(0))
    assert np.allclose(adapted.means[1], [50.0, 50.0])
    assert np.isclose(adapted.weights.sum(), 1.0) and adapted.weights[0] > 0.5
    assert np.array_equal(adapted.covariances, prior.covariances)
    assert np.allclose(prior.adapted(codes, relevance=1e12).means, prior.means)  # no trust in the codes: unchanged
