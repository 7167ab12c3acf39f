"""Phrases (2, 4, 8 bars, fills) and amounts (timing, velocity): engine, real-phrase measures, the fill bank."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from beatguide import amounts, fills, phrases
from beatguide.engine import Engine, Request
from beatguide.errors import InputError
from beatguide.gmd import Windows
from beatguide.grid import HITS, OFFSETS, VELOCITIES, empty_loop
from conftest import drum_score

MODELS = ("baseline", "factorized", "agvae2", "agvae11")


@pytest.fixture(scope="module")
def engine(models_dir):
    return Engine(models_dir)


def request(model="agvae2", n=3, **kw):
    return Request(model, n, 1.0, 7, score=drum_score(), **kw)


# ------------------------------------------------------------------ amounts


def random_loops(seed=0, n=4, steps=64):
    rng = np.random.default_rng(seed)
    loops = np.zeros((n, steps, 27), np.float32)
    hits = rng.random((n, steps, 9)) < 0.3
    loops[..., HITS] = hits
    loops[..., VELOCITIES] = np.where(hits, rng.uniform(0.05, 1.0, hits.shape), 0)
    loops[..., OFFSETS] = np.where(hits, rng.uniform(-0.9, 0.9, hits.shape), 0)
    return loops


def test_full_amounts_leave_loops_exactly_as_played():
    loops = random_loops()
    assert amounts.apply(loops, 100, 100) is loops
    assert amounts.apply(loops, 100.0, 100.0) is loops


def test_timing_scales_offsets_and_velocity_scales_deviations_from_the_loop_mean():
    loops = random_loops()
    hits = loops[..., HITS] > 0.5
    still = amounts.apply(loops, 0, 100)
    assert np.all(still[..., OFFSETS] == 0) and np.array_equal(still[..., VELOCITIES], loops[..., VELOCITIES])
    more = amounts.apply(loops, 150, 100)
    np.testing.assert_allclose(more[..., OFFSETS], np.clip(loops[..., OFFSETS] * 1.5, -1, 1), rtol=1e-6)
    half = amounts.apply(loops, 50, 100)
    np.testing.assert_allclose(half[..., OFFSETS], loops[..., OFFSETS] * 0.5, rtol=1e-6)
    flat = amounts.apply(loops, 100, 0)
    mean = amounts.mean_level(loops)
    for k in range(len(loops)):
        np.testing.assert_allclose(flat[k][..., VELOCITIES][hits[k]], mean[k], rtol=1e-6)
    np.testing.assert_allclose(amounts.mean_level(flat), mean, rtol=1e-5)
    loud = amounts.apply(loops, 100, 150)
    want = np.clip(mean[:, None, None] + (loops[..., VELOCITIES] - mean[:, None, None]) * 1.5, 1 / 127, 1)
    np.testing.assert_allclose(loud[..., VELOCITIES][hits], want[hits], rtol=1e-6)
    for out in (still, more, flat, loud):  # hits never move, cells without a hit stay silent
        assert np.array_equal(out[..., HITS], loops[..., HITS])
        assert np.all(out[..., VELOCITIES][~hits] == 0) and np.all(out[..., OFFSETS][~hits] == 0)


@pytest.mark.parametrize("bad", [-1, 150.5, float("nan"), float("inf"), "loud", None])
def test_bad_amounts_are_refused(bad):
    with pytest.raises(InputError, match="timing must be"):
        amounts.apply(random_loops(), bad, 100)
    with pytest.raises(InputError):
        phrases.Phrase(4, timing=100, velocity=bad).check()


# ------------------------------------------------------------------ phrases through the engine


@pytest.mark.parametrize("model", MODELS)
def test_a_2_bar_phrase_at_full_amounts_is_todays_output_bit_for_bit(engine, model):
    req = request(model)
    want = engine.generate(req)
    got = phrases.generate(engine, req, phrases.Phrase(2, "always", 100, 100))
    assert np.array_equal(got.loops, want.loops)
    assert (got.score_seed, got.groove_seed) == (want.score_seed, want.groove_seed)
    assert all(np.array_equal(got.aux[k], want.aux[k]) for k in want.aux)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("bars", [4, 8])
def test_phrases_start_with_the_2_bar_loop_and_repeat_it_with_changes(engine, model, bars):
    req = request(model)
    first = engine.generate(req).loops
    got = phrases.generate(engine, req, phrases.Phrase(bars, "off"))
    assert got.loops.shape == (3, bars * 16, 27)
    assert np.array_equal(got.loops[:, :32], first)
    again = phrases.generate(engine, req, phrases.Phrase(bars, "off"))
    assert np.array_equal(got.loops, again.loops), "a seed gives the same phrase"
    halves = got.loops.reshape(3, bars // 2, 32, 27)
    hits = halves[..., HITS] > 0.5
    assert (hits[:, 1:] != hits[:, :1]).any(), "later windows are no copies"
    f1 = [
        2 * (a & b).sum() / (a.sum() + b.sum())
        for a, b in zip(hits[:, 1:].reshape(-1, 32, 9), np.repeat(hits[:, 0], bars // 2 - 1, 0))
    ]
    assert np.mean(f1) > 0.5, "they keep the score"
    level = amounts.mean_level(halves.reshape(-1, 32, 27)).reshape(3, -1)
    np.testing.assert_allclose(level, level[:, :1].repeat(bars // 2, 1), atol=0.02)  # dynamics held


def test_a_later_window_reaches_the_first_ones_level_when_the_top_clips():
    first, window = np.zeros((1, 32, 27), np.float32), np.zeros((1, 32, 27), np.float32)
    first[0, ::4, 0], first[0, ::4, 9] = 1, 0.8
    window[0, ::4, 0], window[0, ::4, 9] = 1, [0.95, 0.95, 0.95, 0.95, 0.3, 0.3, 0.3, 0.3]  # mean 0.625
    leveled = phrases._level(window, first)  # +0.175 clips the loud half at 1.0: shifted again
    np.testing.assert_allclose(amounts.mean_level(leveled), 0.8, atol=1e-6)
    assert leveled[0, ::4, 9].max() <= 1.0 and not leveled[0, 1::4, 9].any()


def test_amounts_apply_to_the_whole_phrase_and_to_a_drawn_score(engine):
    req = request()
    plain = phrases.generate(engine, req, phrases.Phrase(4, "always"))
    scaled = phrases.generate(engine, req, phrases.Phrase(4, "always", 50, 150))
    np.testing.assert_array_equal(scaled.loops, amounts.apply(plain.loops, 50, 150))
    two = phrases.generate(engine, req, phrases.Phrase(2, timing=0, velocity=0))
    assert np.all(two.loops[..., OFFSETS] == 0)


def test_fills_land_on_phrase_ends(engine):
    req = request(n=8)
    rate = phrases.data().bank.rate
    always = phrases._fills(req.seed, phrases.Phrase(8, "always"), 8, rate)
    assert always[-1].all() and not always[:-1].any()
    assert not phrases._fills(req.seed, phrases.Phrase(8, "off"), 8, rate).any()
    auto = np.concatenate([phrases._fills(s, phrases.Phrase(8), 8, rate) for s in range(200)], 1)
    assert not auto[0::2].any(), "only windows that end a 4-bar phrase"
    assert abs(auto[1::2].mean() - rate) < 0.04
    # a fill plays the fill bar's drums: more snare and toms in the last bar than without
    off = phrases.generate(engine, req, phrases.Phrase(4, "off")).loops
    on = phrases.generate(engine, req, phrases.Phrase(4, "always")).loops
    assert np.array_equal(on[:, :32], off[:, :32])
    count = lambda x: fills.bar_hits(x)[:, -1][..., fills.FILL_CLASSES].sum()  # noqa: E731
    assert count(on) > count(off)


@pytest.mark.parametrize("model", MODELS)
def test_empty_lanes_stay_empty_and_exact_lanes_exact_across_the_phrase(engine, model):
    modes = ["given"] * 9
    modes[1] = "empty"  # snare: a fill's favourite drum
    modes[0] = "exact"
    req = request(model, lane_modes=tuple(modes))
    out = phrases.generate(engine, req, phrases.Phrase(8, "always")).loops
    assert not out[..., HITS.start + 1].any()
    windows = out.reshape(3, 4, 32, 27)
    assert np.array_equal(windows[:, :3, :, HITS.start] > 0.5, np.broadcast_to(drum_score()[:, 0] > 0.5, (3, 3, 32)))


def test_bad_phrases_are_refused(engine):
    for bad in (phrases.Phrase(3), phrases.Phrase(16), phrases.Phrase(4, "sometimes")):
        with pytest.raises(InputError):
            phrases.generate(engine, request(), bad)


def test_held_latents_are_decoded_as_given(engine):
    req = request(n=2)
    res = engine.generate(req)
    assert np.array_equal(engine.generate(dataclasses.replace(req, held=np.full_like(res.z, np.nan))).loops, res.loops)
    other = engine.generate(dataclasses.replace(req, seed=99)).z
    held = engine.generate(dataclasses.replace(req, held=other))
    np.testing.assert_array_equal(held.z, other)
    with pytest.raises(InputError, match="held latents must have shape"):
        engine.generate(dataclasses.replace(req, held=other[:1]))


# ------------------------------------------------------------------ real phrases: cutting, measuring, the bank


def windows_of(parts: dict) -> Windows:
    """Windows from {(file, start bar): loop}."""
    keys = sorted(parts)
    return Windows(
        np.stack([parts[k] for k in keys]),
        np.array([k[0] for k in keys]),
        np.array([k[1] for k in keys]),
        np.full(len(keys), 120.0),
        ["f0", "f1"],
        ["rock", "rock"],
    )


def marked(value) -> np.ndarray:
    loop = empty_loop()
    loop[0, 0] = 1
    loop[0, 9] = value
    return loop


def test_phrase_windows_are_whole_2_bar_windows_inside_the_performance():
    # file 0 plays bars 0-5 (windows start on 0..5), file 1 bars 0-3 with a silent window on bar 2
    w = windows_of({**{(0, b): marked(b / 10) for b in range(6)}, **{(1, b): marked(0.9) for b in (0, 1, 3)}})
    loops, files, starts = fills.phrase_windows(w, 4)
    assert list(zip(files, starts)) == [(0, 0), (0, 1), (0, 2)]
    np.testing.assert_allclose(loops[1, [0, 32], 9], [0.1, 0.3])
    loops, files, starts = fills.phrase_windows(w, 4, align=4)
    assert list(zip(files, starts)) == [(0, 0)]
    assert fills.phrase_windows(w, 8)[0].shape == (0, 128, 27)


def test_fill_bars_and_half_changes_on_hand_made_phrases():
    phrase = np.zeros((1, 64, 27), np.float32)
    phrase[0, ::4, 0] = 1  # kick on every beat of 4 bars
    phrase[0, 48:64:2, 1] = 1  # 8 snare hits in bar 4: a fill
    phrase[0, 4, HITS.start + 4] = 1  # one tom in bar 1: not a fill
    assert fills.fill_bars(phrase).tolist() == [[False, False, False, True]]
    ch = fills.half_changes(phrase)
    a, b = phrase[0, :32, HITS] > 0.5, phrase[0, 32:, HITS] > 0.5
    assert ch["hits"][0] == pytest.approx((a ^ b).sum() / (a | b).sum())
    assert ch["offsets"][0] == 0
    phrase[0, 32:, OFFSETS] = np.where(phrase[0, 32:, HITS] > 0.5, 0.5, 0)
    assert fills.half_changes(phrase)["offsets"][0] == pytest.approx(0.5)


def test_the_fill_bank_picks_a_fill_whose_bar_before_is_nearest():
    before = np.zeros((20, 16, 9), bool)
    fill = np.zeros((20, 16, 9), bool)
    for i in range(20):
        before[i, : i + 1, 0] = True  # kick on the first i + 1 steps
        fill[i, i % 16, 4] = True
    bank = fills.FillBank(fill, before, 0.25)
    query = before[3]
    nearest = {int(np.argmax(bank.choose(query, u)[:, 4])) for u in np.linspace(0, 0.999, 64)}
    assert nearest == {i % 16 for i in range(fills.NEAREST)}  # the 16 closest to 4 kicks: 1 to 16 kicks
    packed = {
        "fill": np.packbits(fill.reshape(20, -1), 1),
        "before": np.packbits(before.reshape(20, -1), 1),
        "rate": 0.25,
    }
    again = fills.FillBank.from_arrays(packed)
    assert np.array_equal(again.fill, fill) and np.array_equal(again.before, before) and again.rate == 0.25


def test_the_shipped_phrase_data_covers_the_shipped_models(models_dir):
    d = phrases.data()
    assert len(d.bank.fill) > 100 and 0.05 < d.bank.rate < 0.5
    names = sorted(p.parent.name for p in models_dir.glob("*/model.json"))
    assert sorted(d.wander) == names and all(0 < w < phrases.FIT_MAX for w in d.wander.values())
    assert d.wander_of("a model of yours") == d.default


def test_a_later_window_that_would_play_a_fill_keeps_the_first_windows_score():
    first = np.zeros((2, 32, 27), np.float32)
    first[:, ::4, 0] = 1
    first[:, 4::8, 1] = 1  # snare on 2 and 4
    moved, kept = first.copy(), first.copy()
    kept[:, ::2, 2] = 1  # told apart by their hats
    moved[0, 16:32:2, HITS.start + 4] = 1  # variation 0's moved window piles toms into its second bar
    moved[1, 2, 2] = 1  # variation 1's only changes a hat
    out = phrases._unfilled(moved, kept, first)
    assert np.array_equal(out[0], kept[0]) and np.array_equal(out[1], moved[1])


@pytest.mark.parametrize("fill", ["auto", "always"])
def test_variation_k_of_a_phrase_is_the_same_whatever_the_number_of_variations(engine, fill):
    """As in engine.generate: each variation takes draw k of every stream, fills included (one draw of
    the request: a critic picks a request's draws together, so with one the count can matter)."""
    req = dataclasses.replace(request(n=8), candidates=1)
    many = phrases.generate(engine, req, phrases.Phrase(8, fill)).loops
    for n in (1, 3):
        few = phrases.generate(engine, dataclasses.replace(req, variations=n), phrases.Phrase(8, fill)).loops
        assert np.array_equal(few[..., HITS], many[:n, :, HITS])
        np.testing.assert_allclose(few, many[:n], atol=1e-5)  # onnxruntime's sums differ a little by batch size


def test_a_phrase_reports_the_time_of_the_whole_phrase(engine):
    req = request()
    two = phrases.generate(engine, req, phrases.Phrase(2))
    eight = phrases.generate(engine, req, phrases.Phrase(8, "always"))
    assert eight.elapsed_ms > two.elapsed_ms
