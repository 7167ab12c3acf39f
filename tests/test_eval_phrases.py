"""``beatguide eval phrases``: its measures on hand-made phrases, and the command end to end."""

from __future__ import annotations

import numpy as np
import pytest

from beatguide.cli import main
from beatguide.engine import Engine
from beatguide.evaluate import phrases as ep
from beatguide.grid import HITS, OFFSETS, VELOCITIES


def phrases_like(seed: int, n: int = 120, late: float = 0.0) -> np.ndarray:
    """Random 4-bar phrases: a beat repeated with random hats, offsets around ``late``."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 64, 27), np.float32)
    x[:, ::4, 0] = 1
    x[:, 4::8, 1] = 1
    x[:, :, 2] = rng.random((n, 64)) < 0.5
    hits = x[..., HITS] > 0.5
    x[..., VELOCITIES] = np.where(hits, rng.uniform(0.3, 0.9, hits.shape), 0)
    x[..., OFFSETS] = np.where(hits, np.clip(rng.normal(late, 0.1, hits.shape), -1, 1), 0)
    return x


def test_the_classifier_tells_apart_what_differs_and_not_what_does_not():
    groups = np.arange(120) % 12
    same = ep.two_sample_auc(phrases_like(0), phrases_like(1), groups)
    late = ep.two_sample_auc(phrases_like(0), phrases_like(1, late=0.3), groups)
    assert abs(same - 0.5) < 0.1 and late > 0.95
    assert np.isnan(ep.two_sample_auc(phrases_like(0, 4), phrases_like(1, 4), np.zeros(4)))


def test_compare_scores_real_against_itself_as_no_distance_and_the_repeat_as_no_change():
    real = phrases_like(0)
    groups = np.arange(120) % 12
    same = ep.compare(real, real, groups, 0, classify=False)
    assert all(v[2] == 0 for v in same.values())
    repeated = np.tile(real[:, :32], (1, 2, 1))
    rep = ep.compare(real, repeated, groups, 0, classify=False)
    assert rep["change hits"][0] == 0 and rep["change offsets"][0] == 0
    assert rep["change hits"][2] == pytest.approx(rep["change hits"][1], rel=0.05)


def test_generated_phrases_and_their_repeated_loop_share_the_first_window(models_dir):
    real = phrases_like(0, n=3)
    gen = ep.generated(Engine(models_dir), "agvae2", real, 4, seed=0)
    assert gen["phrase"].shape == gen["repeated loop"].shape == (3, 64, 27)
    assert np.array_equal(gen["phrase"][:, :32], gen["repeated loop"][:, 32:])


def test_eval_phrases_on_a_dataset_without_long_performances(fake_gmd, models_dir, tmp_path, capsys):
    argv = ["eval", "phrases", "--gmd", str(fake_gmd), "--models", str(models_dir), "--out", str(tmp_path / "out")]
    assert main([*argv, "--cache-dir", str(tmp_path / "cache")]) == 0
    text = (tmp_path / "out" / "phrases_results.md").read_text()
    assert text in capsys.readouterr().out
    assert "no phrase-aligned 4-bar windows" in text and "no phrase-aligned 8-bar windows" in text


@pytest.mark.slow
def test_eval_phrases_on_the_validation_split(gmd_path, models_dir, tmp_path):
    argv = ["eval", "phrases", "--gmd", str(gmd_path), "--models", str(models_dir), "--limit", "60"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    text = (tmp_path / "phrases_results.md").read_text()
    assert "## 4-bar phrases: generated vs real" in text and "classifier AUC" in text
