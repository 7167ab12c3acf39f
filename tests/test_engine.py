import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from beatguide.drums import CLASSES
from beatguide.engine import Engine, Request, _bank_candidates, _Parsed, lane_groups
from beatguide.errors import InputError, ModelError, NoInputError, UnknownModelError
from conftest import drum_score as _score


def _groove():
    g = np.zeros((32, 3), np.float32)
    g[::2, 0] = 1
    g[::2, 1] = np.linspace(0.4, 1.0, 16)
    g[1::4, 2] = 0  # on-beats straight
    g[2::4, 2] = 0.3
    return g


TASKS = {
    "humanize": dict(model="agvae2", score=_score()),
    "drumify": dict(model="agvae2", groove=_groove()),
    "score+groove": dict(model="agvae2", score=_score(), groove=_groove()),
    "lanes+groove+accents": dict(
        model="agvae11",
        score=_score(),
        lane_modes=("given", "given", "decide", "decide", "empty", "empty", "empty", "empty", "decide"),
        groove=_groove(),
        accents=(np.arange(32) % 8 == 0).astype(np.float32),
    ),
    "baseline humanize": dict(model="baseline", score=_score()),
    "factorized humanize": dict(model="factorized", score=_score()),
}


# -- parity: ONNX through the engine == torch, same latents and uniforms


@pytest.mark.parametrize("kind", ["baseline", "factorized", "agvae2", "agvae11"])
def test_onnx_matches_torch(tiny_models, kind):
    import torch

    folder, models = tiny_models
    m = models[kind]
    onnx = Engine(folder).models[kind]
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, m.z_size)).astype(np.float32)
    u = rng.random((5, 32, 9)).astype(np.float32)
    control = rng.choice(np.array([-1.0, 0.0, 1.0], np.float32), size=(5, 32, 9), p=[0.6, 0.2, 0.2])
    for temp in (0.5, 1.0, 1.7):
        got = onnx.decode(z, u, temp, control)
        with torch.no_grad():
            want = m.sample(
                torch.from_numpy(z), torch.from_numpy(u), torch.tensor(temp), torch.from_numpy(control)
            ).numpy()
        forced = control >= 0
        np.testing.assert_array_equal(got[..., :9][forced], control[forced])
        np.testing.assert_array_equal(got[..., :9], want[..., :9])
        np.testing.assert_allclose(got[..., 9:], want[..., 9:], atol=1e-4)
    gest = {
        "score": _score()[None],
        "groove": _groove()[None],
        "lanes": _score().T[None].copy(),
        "accents": np.ones((1, 32), np.float32),
    }
    post = onnx.encode(gest)
    with torch.no_grad():
        want = m.encode({k: torch.from_numpy(v) for k, v in gest.items()})
    for name, (mu, sigma) in post.items():
        np.testing.assert_allclose(mu, want[name][0].numpy(), atol=1e-4)
        np.testing.assert_allclose(sigma, want[name][1].numpy(), atol=1e-4)
    if kind in ("agvae2", "agvae11"):
        aux = onnx.reconstruct(z)
        with torch.no_grad():
            zs, i = {}, 0
            for lat in m.latents:
                zs[lat.name] = torch.from_numpy(z[:, i : i + lat.size])
                i += lat.size
            raw = m.reconstruct(zs)
        score_key = "lanes" if kind == "agvae11" else "score"
        want_score = torch.sigmoid(raw[score_key]).numpy()
        if kind == "agvae11":
            want_score = want_score.transpose(0, 2, 1)
        np.testing.assert_allclose(aux["score"], want_score, atol=1e-4)


def test_runtime_never_imports_torch(tiny_models):
    folder, _ = tiny_models
    code = (
        "import sys, numpy as np\n"
        "sys.modules['torch'] = None  # any import of torch now fails\n"
        "import beatguide, beatguide.engine, beatguide.cli, beatguide.generate, beatguide.gmd\n"
        "from beatguide.engine import Engine, Request\n"
        f"e = Engine({str(folder)!r})\n"
        "s = np.zeros((32, 9), np.float32); s[::4, 0] = 1\n"
        "for name in e.names: e.generate(Request(name, 2, score=s))\n"
        "print('ok')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


# -- engine behaviour


@pytest.fixture(scope="module")
def engine(tiny_models):
    return Engine(tiny_models[0])


@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_task_runs_batched(engine, task):
    r = engine.generate(Request(variations=8, seed=3, **TASKS[task]))
    assert r.loops.shape == (8, 32, 27)
    assert r.z.shape[0] == 8
    if TASKS[task]["model"] in ("agvae2", "agvae11"):
        assert r.aux["score"].shape == (8, 32, 9) and r.aux["groove"].shape == (8, 32, 3)


def test_seeds_reproduce_and_differ(engine):
    a = engine.generate(Request(variations=4, seed=5, **TASKS["humanize"]))
    b = engine.generate(Request(variations=4, seed=5, **TASKS["humanize"]))
    c = engine.generate(Request(variations=4, seed=6, **TASKS["humanize"]))
    np.testing.assert_array_equal(a.loops, b.loops)
    assert not np.array_equal(a.loops, c.loops)
    # variation k is the same draw whatever the number of variations
    one = engine.generate(Request(variations=1, seed=5, **TASKS["humanize"]))
    np.testing.assert_array_equal(one.loops[0, :, :9], a.loops[0, :, :9])
    np.testing.assert_allclose(one.loops[0], a.loops[0], atol=1e-5)


def test_keeping_a_seed_keeps_that_latent(engine):
    base = engine.generate(Request(variations=3, seed=1, **TASKS["score+groove"]))
    new_beat = engine.generate(
        Request(
            variations=3, seed=2, score_seed=base.score_seed + 1, groove_seed=base.groove_seed, **TASKS["score+groove"]
        )
    )
    g = engine.models["agvae2"].latents[1]["dim"]
    np.testing.assert_array_equal(new_beat.z[:, -g:], base.z[:, -g:])  # same groove latent
    assert not np.array_equal(new_beat.z[:, :-g], base.z[:, :-g])  # new score latent


@pytest.mark.parametrize(
    "bad, error",
    [
        (dict(model="nope", score=_score()), UnknownModelError),
        (dict(model="baseline"), NoInputError),
        (dict(model="agvae2"), NoInputError),
        (dict(model="agvae2", score=_score(), variations=0), InputError),
        (dict(model="agvae2", score=_score(), variations=9), InputError),
        (dict(model="agvae2", score=_score(), temperature=float("nan")), InputError),
        (dict(model="agvae2", score=_score(), temperature=10), InputError),
        (dict(model="agvae2", score=np.full((32, 9), np.inf)), InputError),
        (dict(model="agvae2", score=np.zeros((16, 9))), InputError),
        (dict(model="agvae2", score=_score(), groove=np.full((32, 3), 2.0)), InputError),
        (dict(model="agvae11", lane_modes=("given",) * 9), NoInputError),
        (dict(model="agvae11", score=_score(), lane_modes=("maybe",) * 9), InputError),
        (dict(model="agvae2", score=_score(), seed=-1), InputError),
        (dict(model="agvae2", score=_score(), latent_source="dream"), InputError),
        (dict(model="agvae2", lane_modes=("exact",) * 9), NoInputError),
    ],
)
def test_bad_requests_raise_typed_errors(engine, bad, error):
    with pytest.raises(error):
        engine.generate(Request(**bad))
    engine.generate(Request(**TASKS["humanize"]))  # and the engine keeps working


def test_agvae11_with_nothing_given_draws_everything(engine):
    r = engine.generate(Request("agvae11", variations=2))
    assert r.loops.shape == (2, 32, 27)


def test_missing_and_corrupt_models_fail_at_load(tmp_path, tiny_models):
    with pytest.raises(ModelError):
        Engine(tmp_path)
    import shutil

    shutil.copytree(tiny_models[0] / "agvae2", tmp_path / "agvae2")
    (tmp_path / "agvae2" / "decoder.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="corrupt"):
        Engine(tmp_path)
    (tmp_path / "agvae2" / "decoder.onnx").unlink()
    with pytest.raises(ModelError, match="missing"):
        Engine(tmp_path)


# -- lane modes: every model honours "empty" and "exact"

MODELS = ["baseline", "factorized", "agvae2", "agvae11"]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("temperature", [1.0, 3.0])
def test_played_lanes_set_empty_get_no_hits(engine, model, temperature):
    score = _score()  # plays kick, snare, closed hi-hat
    modes = ("given", "empty", "empty", "decide", "decide", "decide", "decide", "decide", "decide")
    for seed in range(4):
        r = engine.generate(Request(model, 8, temperature, seed, score=score, lane_modes=modes, groove=_groove()))
        assert not (r.loops[:, :, 1:3] > 0.5).any()
        assert np.all(r.loops[:, :, [1, 2, 10, 11, 19, 20]] == 0)  # no velocity or offset left behind


@pytest.mark.parametrize("model", MODELS)
def test_exact_lanes_play_the_drawn_hits_and_nothing_else(engine, model):
    score = _score()
    modes = ("exact",) * 9
    for seed in range(3):
        r = engine.generate(Request(model, 4, 3.0, seed, score=score, lane_modes=modes))
        np.testing.assert_array_equal(r.loops[:, :, :9] > 0.5, np.broadcast_to(score > 0.5, (4, 32, 9)))
        vel = r.loops[:, :, 9:18][r.loops[:, :, :9] > 0.5]
        assert vel.min() >= 0 and vel.max() <= 1


@pytest.mark.parametrize("model", MODELS)
def test_every_lane_empty_with_nothing_else_is_an_error(engine, model):
    with pytest.raises(NoInputError, match="nothing to play"):
        engine.generate(Request(model, score=_score(), lane_modes=("empty",) * 9))
    with pytest.raises(NoInputError):
        engine.generate(Request(model, lane_modes=("empty",) * 9))


def test_lanes_left_free_can_be_measured_unforced(engine):
    modes = ("given",) + ("empty",) * 8
    req = Request("agvae11", 8, 3.0, 0, score=_score(), lane_modes=modes)
    forced = engine.generate_batch([req])[0]
    free = engine.generate_batch([req], enforce_lanes=False)[0]
    assert not (forced.loops[:, :, 1:9] > 0.5).any()
    assert (free.loops[:, :, 1:9] > 0.5).any()  # an untrained model plays everywhere at temperature 3


def test_bank_source_draws_real_codes_for_missing_latents(engine):
    m = engine.models["agvae2"]
    r = engine.generate(Request("agvae2", 4, seed=1, score=_score(), latent_source="bank"))
    groove = r.z[:, m.latents[0]["dim"] :]
    bank = m.bank[:, m.latents[0]["dim"] :]
    score = _score() > 0.5
    toms = [CLASSES.index(d) for d in ("low_tom", "mid_tom", "high_tom")]
    likeness = (
        _jaccard(m.bank_steps, score.any(axis=1))
        + sum(_jaccard(m.bank_hits[:, :, d], score[:, d]) for d in (CLASSES.index("crash"), CLASSES.index("ride")))
        + _jaccard(m.bank_hits[:, :, toms].any(axis=2), score[:, toms].any(axis=1))
    )
    for row in groove:  # each variation's groove latent is one bank row, unscaled, of a similar score
        match = np.flatnonzero(np.all(np.isclose(bank, row), axis=1))
        assert len(match) == 1
        assert likeness[match[0]] >= np.sort(likeness)[-32]
    assert "bank" in engine.capabilities("agvae2")["latent_sources"]
    again = engine.generate(Request("agvae2", 4, seed=1, score=_score(), latent_source="bank"))
    np.testing.assert_array_equal(r.loops, again.loops)


def _jaccard(rows, x):
    rows = rows > 0.5
    either = (rows | x).sum(1)
    return np.where(either > 0, (rows & x).sum(1) / np.maximum(either, 1), 1.0)


def test_bank_rows_match_the_cymbal_lanes_the_input_gives():
    """Two bank rows play the same steps; the one whose crash part is the score's comes first where
    the crash lane is known, bank order decides where it is not or the bank holds no scores."""
    crash = CLASSES.index("crash")
    score = np.zeros((32, 9), bool)
    score[::4, 0] = score[::8, crash] = True
    hits = np.zeros((2, 32, 9), bool)
    hits[:, ::4, 0] = True
    hits[1, ::8, crash] = True
    bank = SimpleNamespace(
        bank=np.zeros((2, 4)), bank_steps=hits.any(axis=2), bank_hits=hits, bank_groups=lane_groups(hits)
    )

    def first(known, bank=bank):
        parsed = _Parsed({}, {}, None, score.any(axis=1), score, known)
        return _bank_candidates(bank, parsed)[0]

    assert first(np.ones(9, bool)) == 1
    assert first(np.arange(9) != crash) == 0
    assert first(np.ones(9, bool), SimpleNamespace(**{**vars(bank), "bank_hits": None, "bank_groups": None})) == 0


def test_the_toms_are_matched_as_one_lane():
    """A fill on the low tom matches a bank row whose fill is on the high tom: the toms mark a fill,
    whichever tom plays it."""
    low, high = CLASSES.index("low_tom"), CLASSES.index("high_tom")
    score = np.zeros((32, 9), bool)
    score[::4, 0] = score[28:32, low] = True
    hits = np.zeros((2, 32, 9), bool)
    hits[:, ::4, 0] = hits[:, 28:32, 1] = True  # row 0: the fill on the snare
    hits[1, 28:32, 1], hits[1, 28:32, high] = False, True  # row 1: on the high tom
    bank = SimpleNamespace(
        bank=np.zeros((2, 4)), bank_steps=hits.any(axis=2), bank_hits=hits, bank_groups=lane_groups(hits)
    )
    parsed = _Parsed({}, {}, None, score.any(axis=1), score, np.ones(9, bool))
    assert _bank_candidates(bank, parsed)[0] == 1


def test_capabilities_describe_each_model(engine):
    caps = {name: engine.capabilities(name) for name in MODELS}
    assert caps["baseline"]["needs"] == "score" and caps["baseline"]["aux"] == []
    assert caps["agvae2"]["needs"] == "score_or_groove" and caps["agvae2"]["aux"] == ["score", "groove"]
    assert caps["agvae11"]["needs"] == "any" and "lanes" in caps["agvae11"]["gestures"]
    assert all("exact" in c["lane_modes"] for c in caps.values())
    with pytest.raises(UnknownModelError):
        engine.capabilities("nope")


# -- the shipped models


def test_bundled_models_load_and_empty_lanes_stay_empty(models_dir):
    e = Engine(models_dir)
    assert {"baseline", "factorized", "agvae2", "agvae11"} <= set(e.names)
    modes = ("given", "empty", "empty", "empty", "empty", "empty", "empty", "empty", "empty")
    for name in e.names:
        for seed in range(5):
            r = e.generate(Request(name, 8, 3.0, seed=seed, score=_score(), lane_modes=modes))
            assert not (r.loops[:, :, 1:9] > 0.5).any()


def test_a_batch_gives_what_each_request_gives_alone(engine):
    reqs = [Request(variations=v, seed=s, **TASKS["score+groove"]) for v, s in ((1, 0), (3, 1), (2, 2))]
    for req, got in zip(reqs, engine.generate_batch(reqs)):
        alone = engine.generate(req)
        np.testing.assert_array_equal(got.loops[..., :9], alone.loops[..., :9])
        np.testing.assert_allclose(got.loops, alone.loops, atol=1e-5)
        np.testing.assert_allclose(got.aux["groove"], alone.aux["groove"], atol=1e-5)
    with pytest.raises(InputError):
        engine.generate_batch([Request(**TASKS["humanize"]), Request(temperature=0.5, **TASKS["humanize"])])


@pytest.mark.parametrize("history", [False, True])
def test_onnx_matches_torch_with_logistic_values(tmp_path, history):
    """A decoder that samples velocities and offsets takes 27 uniforms per step; the engine feeds them.
    With ``history`` its head also reads each drum's running residuals, kept inside the graph."""
    torch = pytest.importorskip("torch")
    from beatguide_export.models import build
    from beatguide_export.onnx_export import export_model

    torch.manual_seed(0)
    m = build(
        "agvae2", enc_hidden=16, mlp_hidden=32, dec_hidden=32, dec_layers=1, values="logistic", history=history
    ).eval()
    export_model(m, tmp_path / "agvae2")
    onnx = Engine(tmp_path).models["agvae2"]
    assert onnx.uniform_width == 27
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4, m.z_size)).astype(np.float32)
    u = rng.random((4, 32, 27)).astype(np.float32)
    control = np.full((4, 32, 9), -1.0, np.float32)
    got = onnx.decode(z, u, 1.3, control)
    with torch.no_grad():
        want = m.sample(torch.from_numpy(z), torch.from_numpy(u), torch.tensor(1.3), torch.from_numpy(control)).numpy()
    np.testing.assert_array_equal(got[..., :9], want[..., :9])
    np.testing.assert_allclose(got[..., 9:], want[..., 9:], atol=1e-4)
    r = Engine(tmp_path).generate(Request("agvae2", 3, seed=2, score=_score()))
    assert r.loops.shape == (3, 32, 27)
