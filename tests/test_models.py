"""Fast CPU checks of the four PyTorch models (skipped without the train extra)."""

import csv
import math

import numpy as np
import pytest

from beatguide.fitted_prior import FittedPrior
from beatguide.registry import KINDS

torch = pytest.importorskip("torch")

from beatguide_export.losses import loop_terms, total_loss  # noqa: E402
from beatguide_export.models import build, free_nats, kl_per_latent  # noqa: E402
from beatguide_export.train import humanize, prior_draws  # noqa: E402

SMALL = dict(enc_hidden=16, mlp_hidden=32, dec_hidden=32, dec_layers=1)


def _batch(n=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    hits = (torch.rand(n, 32, 9, generator=g) < 0.15).float()
    target = torch.cat(
        [hits, hits * torch.rand(n, 32, 9, generator=g), hits * (torch.rand(n, 32, 9, generator=g) - 0.5)], -1
    )
    from beatguide_export.data import gesture_arrays

    gest = {k: torch.from_numpy(v) for k, v in gesture_arrays(target.numpy()).items()}
    return gest, target


def _fit(m, gest, target, steps=30):
    """A few Adam steps on one batch: (loss, terms) of each."""
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    out = []
    for _ in range(steps):
        post, raw, aux = m(gest, target, sample=False)
        loss, terms = total_loss(m, post, raw, aux, gest, target, beta=0.2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append((loss.item(), terms))
    return out


def _model(kind, **kw):
    free = {
        "baseline": {"z": 48.0},
        "factorized": {"score": 64.0, "groove": 48.0},
        "agvae2": {"score": 64.0, "groove": 48.0},
        "agvae11": {"lanes": 8.0, "groove": 16.0, "accents": 8.0},
    }[kind]
    torch.manual_seed(0)
    return build(kind, **{**SMALL, "free_bits": free, **kw})


@pytest.mark.parametrize("kind", KINDS)
def test_output_shapes(kind):
    m = _model(kind)
    gest, target = _batch()
    post, raw, aux = m(gest, target)
    assert raw.shape == (8, 32, 27)
    assert set(post) == {lat.name for lat in m.latents}
    expected_aux = {"agvae2": {"score", "groove"}, "agvae11": {"lanes", "groove", "accents"}}.get(kind, set())
    assert set(aux) == expected_aux
    for name, r in aux.items():
        assert r.shape == gest[name].shape
    z = torch.randn(3, m.z_size)
    out = m.sample(z, torch.rand(3, 32, 9), torch.tensor(1.0))
    assert out.shape == (3, 32, 27)
    hits = out[..., :9]
    assert set(hits.unique().tolist()) <= {0.0, 1.0}
    assert torch.all(out[..., 9:18][hits == 0] == 0) and torch.all(out[..., 18:][hits == 0] == 0)


@pytest.mark.parametrize("kind", KINDS)
def test_a_few_steps_lower_the_loss(kind):
    m = _model(kind, dropout=0.0, prior_dropout=0.0)
    gest, target = _batch()
    torch.manual_seed(1)
    losses = [loss for loss, _ in _fit(m, gest, target)]
    assert losses[-1] < 0.7 * losses[0]


def test_free_bits_split_and_penalty():
    m = _model("agvae11")
    free = free_nats(m)
    assert free["lanes0"] == pytest.approx(8.0 * math.log(2)) and len([k for k in free if k.startswith("lanes")]) == 9
    assert free["groove"] == pytest.approx(16.0 * math.log(2))
    m = _model("agvae2")
    gest, target = _batch()
    post, raw, aux = m(gest, target)
    kls = kl_per_latent(m, post)
    _, base = total_loss(m, post, raw, aux, gest, target, beta=0.0)
    for beta in (0.1, 0.2):
        loss, _ = total_loss(m, post, raw, aux, gest, target, beta=beta)
        expected = base["loss"] + beta * sum(max(kls[k].item() - free_nats(m)[k], 0.0) for k in kls)
        assert loss.item() == pytest.approx(expected, rel=1e-5)
    # KL under the free allowance gives the encoder no gradient from the KL term
    mu = torch.zeros(4, 64, requires_grad=True)
    sigma = torch.full((4, 64), 0.9, requires_grad=True)
    post = {"score": (mu, sigma), "groove": (torch.zeros(4, 64), torch.ones(4, 64))}
    kl = kl_per_latent(m, post)["score"]
    assert kl.item() < free_nats(m)["score"]
    torch.clamp(kl - free_nats(m)["score"], min=0.0).backward()
    assert sigma.grad.abs().sum() == 0


@pytest.mark.parametrize("kind", ["agvae2", "agvae11"])
def test_each_auxiliary_decoder_reaches_only_its_own_latent(kind):
    m = _model(kind)
    gest, _ = _batch()
    post = m.encode(gest)
    zs = {k: mu.detach().clone().requires_grad_(True) for k, (mu, _) in post.items()}
    aux = m.reconstruct(zs)
    for lat in m.latents:
        for z in zs.values():
            z.grad = None
        aux[lat.gesture].sum().backward(retain_graph=True)
        for other, z in zs.items():
            touched = z.grad is not None and z.grad.abs().sum() > 0
            assert touched == (other == lat.name), (lat.gesture, other)
    if kind == "agvae11":  # and each lane's decoder only its own lane's latent
        z = zs["lanes"]
        z.grad = None
        aux["lanes"][:, 3].sum().backward()
        g = z.grad.reshape(8, 9, -1).abs().sum(dim=(0, 2))
        assert g[3] > 0 and g.sum() == g[3]


def test_eleven_input_model_runs_with_any_subset():
    """Every one of the 2^11 subsets of given gestures (9 lanes, groove, accents) is built and decoded,
    in one batch: given latents are the posterior means, the rest prior draws."""
    m = _model("agvae11").eval()
    gest, _ = _batch(4)
    post = m.encode(gest)
    masks = torch.arange(2**11)
    given = ((masks[:, None] >> torch.arange(11)) & 1).bool()  # (2048, 11): lanes 0-8, groove, accents
    sample = masks % 4  # which input window each subset reads
    torch.manual_seed(2)
    zs = {}
    lanes_mu = post["lanes"][0][sample]
    lane_given = given[:, :9].repeat_interleave(lanes_mu.shape[1] // 9, dim=1)
    zs["lanes"] = torch.where(lane_given, lanes_mu, torch.randn_like(lanes_mu))
    for name, bit in (("groove", 9), ("accents", 10)):
        mu = post[name][0][sample]
        zs[name] = torch.where(given[:, bit : bit + 1], mu, torch.randn_like(mu))
    with torch.no_grad():
        out = m.sample(m.join(zs), torch.rand(len(masks), 32, 9), torch.tensor(1.0))
    assert out.shape == (2**11, 32, 27) and torch.isfinite(out).all()
    hits = out[..., :9]
    assert set(hits.unique().tolist()) <= {0.0, 1.0}
    assert torch.all(out[..., 9:][hits.repeat(1, 1, 2) == 0] == 0)
    # the subset with every gesture given decodes its window's posterior means, nothing drawn
    z = m.join(zs)
    assert torch.equal(z[-1], m.join({k: mu[(2**11 - 1) % 4] for k, (mu, _) in post.items()}))


def test_exported_weights_rebuild_the_model(tmp_path):
    import torch

    from beatguide_export.models import build
    from beatguide_export.onnx_export import export_model, load_exported

    torch.manual_seed(0)
    m = build("agvae2", enc_hidden=16, mlp_hidden=32, dec_hidden=32, dec_layers=1).eval()
    export_model(m, tmp_path / "agvae2")
    back = load_exported(tmp_path / "agvae2")
    for (k, a), (_, b) in zip(m.state_dict().items(), back.state_dict().items()):
        torch.testing.assert_close(a, b, atol=2e-3, rtol=1e-3, msg=k)  # stored as float16


def test_logistic_values_learn_a_spread_and_sample_it():
    """values="logistic": the decoder learns a location and a scale per velocity and offset, and draws
    each played note's values from them with the last 18 uniforms of each step."""
    m = _model("agvae2", dropout=0.0, values="logistic")
    gest, target = _batch()
    post, raw, aux = m(gest, target)
    assert raw.shape == (8, 32, 63) and m.uniform_width == 27
    losses = [terms["value_spread"] for _, terms in _fit(m, gest, target)]
    assert losses[-1] < losses[0] - 10  # the values' negative log-likelihood falls
    from beatguide_export.losses import loop_terms

    post, raw, aux = m(gest, target, sample=False)
    m.zero_grad()
    loop_terms(raw, target, "logistic")["value_spread"].backward()
    assert all(p.grad is None or not p.grad.any() for p in m.decoder.rnn.parameters())  # scales alone
    assert m.decoder.dist[0].weight.grad.abs().sum() > 0
    m.eval()
    z, u = torch.randn(4, m.z_size), torch.rand(4, 32, 27)
    force = target[:4, :, :9]  # the same hits in every draw, so only the values can differ
    a = m.sample(z, u, torch.tensor(1.0), force)
    b = m.sample(z, torch.cat([u[..., :9], torch.rand(4, 32, 18)], -1), torch.tensor(1.0), force)
    cold = m.sample(z, u, torch.tensor(0.05), force)
    assert torch.equal(a[..., :9], b[..., :9]) and torch.equal(a[..., :9], force)
    played = force > 0.5
    assert not torch.allclose(a[..., 9:18][played], b[..., 9:18][played])
    assert torch.all(a[..., 9:18][~played] == 0) and torch.all((a[..., 9:18] >= 0) & (a[..., 9:18] <= 1))
    assert torch.all(a[..., 18:].abs() <= 1)
    spread = (a - cold)[..., 18:][played].abs().mean()
    assert spread > 0.01  # temperature scales the values' spread


def test_censored_values_score_the_top_as_a_point_mass():
    """censored: a velocity at the top (127) scores -log P(draw >= top) instead of its density; the
    offset's term is unchanged; the velocity locations may pass 0 and 1."""
    from beatguide.grid import TOP_VELOCITY
    from beatguide_export.losses import logistic_nll
    from beatguide_export.models import VELOCITY_REACH, WIDTH, value_locations

    raw = torch.zeros(1, 32, WIDTH + 36, requires_grad=True)  # every location 0.5 (velocity) / 0, scale s
    target = torch.zeros(1, 32, WIDTH)
    target[0, 0, 0], target[0, 0, 9] = 1.0, 1.0  # one kick at 127
    censored = loop_terms(raw, target, "logistic", censored=True)["value_spread"]
    density = loop_terms(raw, target, "logistic")["value_spread"]
    s = torch.nn.functional.softplus(torch.tensor(0.0)) + 0.02
    top = torch.nn.functional.softplus((TOP_VELOCITY - 0.5) / s)
    assert (density - censored).item() == pytest.approx(
        (logistic_nll(torch.tensor(1.0), 0.5, s) - top).item(), rel=1e-5
    )
    censored.backward()
    assert raw.grad[0, 0, WIDTH].item() < 0  # raising the kick's location lowers the loss
    high = torch.full((1, 1, WIDTH + 36), 20.0)
    assert value_locations(high, head=True, wide=True)[0].max().item() == pytest.approx(1 + VELOCITY_REACH, abs=1e-4)
    assert value_locations(-high, head=True, wide=True)[0].min().item() == pytest.approx(-VELOCITY_REACH, abs=1e-4)


def test_a_censored_head_draws_the_top_as_often_as_it_is_played(tmp_path):
    """Refitting the head alone with censored velocities: played at 127 everywhere, the draws land on
    127 most of the time (a density fit spreads them below it), and the ONNX export draws the same."""
    from beatguide.engine import Engine
    from beatguide_export.onnx_export import export_model

    gest, target = _batch(32)
    target[..., 9:18] = target[..., :9]  # every hit at the top
    m = _model("agvae2", dropout=0.0, values="logistic", censored=True)

    opt = torch.optim.Adam(m.gradient_groups()[-1], lr=1e-2)  # the distribution head (and level head)
    for _ in range(150):  # the head alone, as train_head trains it
        loss = loop_terms(m(gest, target, sample=False)[1], target, "logistic", censored=True)["value_spread"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    z, u = torch.randn(8, m.z_size), torch.rand(8, 32, 27)
    force = target[:8, :, :9]
    drawn = m.sample(z, u, torch.tensor(1.0), force)[..., 9:18][force > 0.5]
    assert (drawn == 1.0).float().mean() > 0.6
    export_model(m, tmp_path / "agvae2")
    got = Engine(tmp_path).models["agvae2"].decode(z.numpy(), u.numpy(), 1.0, force.numpy())
    np.testing.assert_allclose(
        got[..., 9:], m.sample(z, u, torch.tensor(1.0), force)[..., 9:].detach().numpy(), atol=1e-4
    )


def test_history_features_in_training_are_those_the_sampler_builds():
    """Teacher forcing gives the head, at each step, the running residuals of the steps before it,
    exactly as the sampler accumulates them step by step."""
    from beatguide_export.models import WIDTH, History

    gest, loops = _batch(4)
    raw = torch.randn(4, 32, WIDTH + 36)
    history, steps = History(4, torch.float32), []
    for t in range(32):
        steps.append(history.features())
        history.add(raw[:, t], loops[:, t])
    torch.testing.assert_close(History.before_each_step(raw, loops), torch.stack(steps, 1), rtol=0, atol=1e-6)
    assert History.before_each_step(raw, loops)[:, 0].abs().sum() == 0  # nothing played before the first step


def _kick_levels(m, n=64, seed=0):
    """Loops of kicks on every beat, each loop at its own level (0.2-0.9), offsets 0: (gestures, loops)."""
    g = torch.Generator().manual_seed(seed)
    target = torch.zeros(n, 32, 27)
    target[:, ::4, 0] = 1.0
    target[:, ::4, 9] = (0.2 + 0.7 * torch.rand(n, 1, generator=g)).expand(-1, 8)
    from beatguide_export.data import gesture_arrays

    return {k: torch.from_numpy(v) for k, v in gesture_arrays(target.numpy()).items()}, target


@pytest.mark.parametrize("history", [False, True])
def test_a_history_head_keeps_a_drums_level_through_the_loop(history):
    """Trained on loops whose kicks keep one level each, a head reading the running residuals draws
    each loop's kicks close together; without them, every kick draws from the whole spread of levels."""
    torch.manual_seed(0)
    m = _model("agvae2", dropout=0.0, values="logistic", history=history)
    gest, target = _kick_levels(m)
    opt = torch.optim.Adam(m.gradient_groups()[-1], lr=1e-2)  # the distribution head (and level head)
    for _ in range(200):
        loss = loop_terms(m(gest, target, sample=False)[1], target, "logistic")["value_spread"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    with torch.no_grad():
        z = torch.zeros(256, m.z_size)  # one code for all: only the draws decide a loop's level
        kicks = m.sample(z, torch.rand(256, 32, 27), torch.tensor(1.0), target[:1, :, :9].expand(256, -1, -1))[
            :, ::4, 9
        ]
    within, between = kicks.std(dim=1).mean().item(), kicks.mean(dim=1).std().item()
    if history:
        assert within < 0.5 * between
    else:
        assert within > between


def test_unknown_values_are_refused():
    with pytest.raises(ValueError, match="unknown values"):
        _model("agvae2", values="median")


def test_prior_draws_condition_on_the_given_codes():
    """train.prior_draws: only the missing latents come back, drawn from the fitted prior given the
    codes (a near-deterministic mixture returns its conditional mean)."""
    m = _model("factorized").eval()
    d = m.z_size
    cov = np.eye(d) * 1e-8
    cov[:64, 64:] = cov[64:, :64] = np.eye(64) * 0.5e-8  # groove = score / 2 at this scale
    prior = FittedPrior([1.0], np.zeros((1, d)), cov[None])
    score = torch.randn(3, 64)
    drawn = prior_draws(m, prior, {"score": score}, torch.Generator().manual_seed(0))
    assert set(drawn) == {"groove"} and drawn["groove"].shape == (3, 64)
    torch.testing.assert_close(drawn["groove"], score / 2, atol=1e-3, rtol=0)
    loops = humanize(m, torch.zeros(2, 32, 9), samples=2, prior=prior)
    assert loops.shape == (2, 2, 32, 27)


def test_humanize_draws_the_groove_from_the_bank_rows_like_the_score(monkeypatch):
    """train.humanize with a bank: the score's own code, the groove-side codes of a bank row whose rhythm
    is like the score's (engine.bank_neighbours), as the engine's default source draws them."""
    from beatguide_export.train import BankRows

    m = _model("factorized").eval()
    four, eight = np.zeros((32, 9), bool), np.zeros((32, 9), bool)
    four[::8, 0], eight[::4, 0] = True, True  # 4 and 8 kicks
    rows = 64  # BANK_NEIGHBOURS (32) rows of each rhythm, the groove code telling them apart
    hits = np.stack([four] * (rows // 2) + [eight] * (rows // 2))
    z = np.zeros((rows, m.z_size), np.float32)
    z[rows // 2 :, 64:] = 1.0  # the eight-kick rows' groove code
    bank = BankRows.of({"z": z, "steps": hits.any(axis=2), "hits": hits})
    seen = []
    monkeypatch.setattr(m, "sample", lambda zz, *a: seen.append(zz) or torch.zeros(len(zz), 32, 27))
    humanize(m, torch.from_numpy(np.stack([four, eight]).astype(np.float32)), samples=3, bank=bank)
    groove = torch.stack(seen)[:, :, 64:]  # (samples, 2 scores, 64)
    assert (groove[:, 0] == 0).all() and (groove[:, 1] == 1).all()


@pytest.mark.parametrize("select", ["hits", "loss", "recon"])
def test_training_selects_a_checkpoint_then_trains_the_head_alone(fake_gmd, tmp_path, select):
    """``train`` end to end on a tiny dataset: the checkpoint is picked on the chosen validation term;
    with "hits" the values' distribution head alone trains on after it (every other weight as picked)."""
    from beatguide_export.train import train

    sizes = dict(SMALL, free_bits={"score": 64.0, "groove": 48.0})
    out = tmp_path / "run"
    s = train("agvae2", fake_gmd, out, epochs=2, cache_dir=tmp_path / "cache", progress=False, select=select, **sizes)
    assert s["selected_on"] == select and bool(s["head_epochs"]) is (select == "hits")
    assert s["validation"]["recon"] <= s["validation"]["loss"] + 1e-6  # the loss less its KL penalty
    best = torch.load(out / "best.pt", weights_only=False)
    history = list(csv.DictReader(open(out / "learning_curve.csv")))
    picked = min(history, key=lambda r: float(r[f"val_{select}"]))
    assert best["epoch"] == int(picked["epoch"])


def test_a_resumed_run_continues_exactly(fake_gmd, tmp_path):
    """``train --resume``: one epoch, then resumed to two, ends with the weights, optimiser state and
    learning curve of two epochs run at once (last.pt keeps both random states)."""
    from beatguide_export.train import train

    kw = dict(cache_dir=tmp_path / "cache", progress=False, batch_size=2, **SMALL)
    train("agvae2", fake_gmd, tmp_path / "once", epochs=2, **kw)
    train("agvae2", fake_gmd, tmp_path / "twice", epochs=1, **kw)
    train("agvae2", fake_gmd, tmp_path / "twice", epochs=2, resume=True, **kw)
    once, twice = (torch.load(tmp_path / d / "last.pt", weights_only=False) for d in ("once", "twice"))
    assert twice["epoch"] == 2
    for k, v in once["model"].items():
        assert torch.equal(v, twice["model"][k]), k
    assert str(once["opt"]["state"]) == str(twice["opt"]["state"])
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in once["history"]]
    assert strip == [{k: v for k, v in row.items() if k != "seconds"} for row in twice["history"]]


def test_the_head_phase_changes_the_head_alone():
    """``train_head``: only the distribution head's weights move, and the values' validation
    likelihood does not get worse (the best head is kept)."""
    from beatguide_export.data import WindowSet
    from beatguide_export.train import evaluate, train_head

    m = _model("agvae2", values="logistic")
    _, target = _batch(64)
    ds = WindowSet(target.numpy())
    before = {k: v.clone() for k, v in m.state_dict().items()}
    start = evaluate(m, ds, 0.2)["value_spread"]
    rows = train_head(m, ds, ds, batch_size=32, lr=3e-3, gen=torch.Generator().manual_seed(0), progress=False)
    changed = {k for k, v in m.state_dict().items() if not torch.equal(v, before[k])}
    assert rows and changed and all(k.startswith("decoder.dist.") for k in changed)
    assert evaluate(m, ds, 0.2)["value_spread"] < start
    assert all(p.requires_grad for p in m.parameters())


def test_groove_swap_decodes_with_another_loops_groove_and_scores_its_hits_only():
    """``swap``: masked loops are decoded with the permuted loops' groove codes (the identity swap
    changes nothing), their auxiliary outputs stay their own, and ``scored`` drops their values."""
    m = _model("agvae2", values="logistic").eval()
    gest, target = _batch()
    n = len(target)
    free = -torch.ones_like(target[..., :9])
    base = m(gest, target, sample=False, hit_control=free)
    everyone = torch.ones(n, dtype=torch.bool)
    same = m(gest, target, sample=False, hit_control=free, swap=(everyone, torch.arange(n)))
    torch.testing.assert_close(same[1], base[1])
    flipped = m(gest, target, sample=False, hit_control=free, swap=(everyone, torch.arange(n).flip(0)))
    assert not torch.allclose(flipped[1], base[1])
    for k in base[2]:
        torch.testing.assert_close(flipped[2][k], base[2][k])
    none = torch.zeros(n, dtype=torch.bool)
    terms = loop_terms(base[1], target, "logistic", scored=none)
    assert terms["velocity"] == 0 and terms["offset"] == 0 and terms["value_spread"] == 0 and terms["hits"] > 0


def test_lane_deletion_removes_one_played_drum_from_score_and_target_and_keeps_the_groove():
    """``delete_lanes``: a deleted drum leaves the target, the score and the lanes of its loop; the
    groove and accents are untouched; loops playing a single drum are never emptied."""
    from beatguide_export.data import delete_lanes

    gest, target = _batch(n=64)
    target[0, :, [1, 10, 19]] = 0  # loop 0 plays kick only
    target[0, :, 2:9] = 0
    target[0, :, 11:18] = 0
    target[0, :, 20:27] = 0
    target[0, 0, [0, 9]] = 1
    from beatguide_export.data import gesture_arrays

    gest = {k: torch.from_numpy(v) for k, v in gesture_arrays(target.numpy()).items()}
    torch.manual_seed(1)
    new_gest, new_target = delete_lanes(gest, target, share=1.0)
    played = gest["score"].amax(dim=1) > 0
    kept = new_gest["score"].amax(dim=1) > 0
    lost = played & ~kept
    assert lost[0].sum() == 0
    assert (lost.sum(dim=1) == (played.sum(dim=1) >= 2).long()).all()
    torch.testing.assert_close(new_gest["lanes"], new_gest["score"].transpose(1, 2))
    torch.testing.assert_close(new_target[..., :9], new_gest["score"])
    for block in range(3):
        cols = new_target[..., block * 9 : (block + 1) * 9]
        assert (cols.abs().amax(dim=1)[lost] == 0).all()
        torch.testing.assert_close(
            cols[~lost[:, None, :].expand_as(cols)],
            target[..., block * 9 : (block + 1) * 9][~lost[:, None, :].expand_as(cols)],
        )
    torch.testing.assert_close(new_gest["groove"], gest["groove"])
    torch.testing.assert_close(new_gest["accents"], gest["accents"])
    assert delete_lanes(gest, target, share=0.0)[1].equal(target)


def test_lane_readings_score_the_auxiliary_lane_reconstructions():
    """``lane_readings``: a reading equal to the lanes scores 1; the untrained model's lies below."""
    from beatguide_export import data
    from lane_readings import reading_prf

    m = _model("agvae11").eval()
    _, target = _batch(n=32)
    windows = data.WindowSet(target.numpy())
    p, r, f = reading_prf(m, windows, 16)
    assert 0 <= f < 1 and 0 <= p <= 1 and 0 <= r <= 1
    m.encode = lambda gest: {"lanes": (gest["lanes"], None)}  # a perfect reader: the code is the lane
    m.reconstruct = lambda codes: {"lanes": codes["lanes"] * 2 - 1}
    assert reading_prf(m, windows, 16) == (1.0, 1.0, 1.0)


def test_lane_codes_alone_learn_to_read_lanes():
    """``fit_lane_codes``: the lane encoder and reader trained alone learn to read lanes made of a few
    rhythms, which they cannot at the start, and report a KL per lane."""
    from lane_readings import fit_lane_codes

    g = torch.Generator().manual_seed(0)
    rhythms = (torch.rand(6, 32, generator=g) < 0.3).float()
    lanes = rhythms[torch.randint(0, 6, (128, 9), generator=g)]
    assert fit_lane_codes(lanes, lanes[:16], dim=8, epochs=0)["train"] < 0.6
    after = fit_lane_codes(lanes, lanes[:16], dim=8, epochs=30)
    assert after["train"] > 0.95 and after["validation"] > 0.95 and after["kl_train"] > 0


def test_aux_detach_keeps_the_auxiliary_loss_off_the_encoder():
    """``aux_detach``: a detached latent's auxiliary loss trains its reader, not its encoder."""
    gest, target = _batch()
    for detach, reaches in (((), True), (("score",), False)):
        torch.manual_seed(0)
        m = build("agvae2", **SMALL, aux_detach=detach)
        _, _, aux = m(gest, target)
        from beatguide_export.losses import aux_terms

        aux_terms(aux, gest)["aux_score"].backward()
        enc = [p.grad for p in m.encoders["score"].parameters()]
        assert any(g is not None and g.abs().sum() > 0 for g in enc) is reaches
        assert all(p.grad is not None for p in m.aux["score"].parameters())


def test_shared_lane_weights_act_like_one_copy_per_lane():
    """``lanes_shared``: one set of weights serves every lane (own biases): the same as separate
    encoders and readers whose weights are all copies of it."""
    from beatguide_export.models import MLPDecoder, MLPEncoder

    torch.manual_seed(0)
    x = torch.rand(4, 9, 32)
    for shared, separate, inp in (
        (MLPEncoder(32, 16, 8, groups=9, shared=True), MLPEncoder(32, 16, 8, groups=9), x),
        (MLPDecoder(8, 16, 32, groups=9, shared=True), MLPDecoder(8, 16, 32, groups=9), torch.randn(4, 72)),
    ):
        assert shared.w1.shape[0] == 1 and shared.b1.shape[0] == 9
        with torch.no_grad():
            for name in ("w1", "w2"):
                getattr(separate, name).copy_(getattr(shared, name).expand_as(getattr(separate, name)))
            for name in ("b1", "b2"):
                getattr(shared, name).normal_()
                getattr(separate, name).copy_(getattr(shared, name))
        a, b = shared(inp), separate(inp)
        for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            torch.testing.assert_close(u, v)
    assert build("agvae11", lanes_shared=True).encoders["lanes"].w1.shape[0] == 1
