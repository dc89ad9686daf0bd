"""The open BPTT trainer: losses and regularisers against finite differences of an independent
NumPy evaluation, constraints after training, optimisers and schedulers of torch.optim, trial
generators, validation, warm starts and safe checkpoints."""

import numpy as np
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")

from lowrank_rnn.fit.bptt import BPTTTrainer  # noqa: E402
from lowrank_rnn.network import LowRankRNN  # noqa: E402
from lowrank_rnn.simulate import simulate  # noqa: E402
from lowrank_rnn.tasks import TrialBatch, random_dots_trials  # noqa: E402


def _batch(seed, b=3, t=6, d_in=2, d_out=2, dt=0.2, classes=False):
    rng = np.random.default_rng(seed)
    mask = rng.random((b, t, d_out)) < 0.7
    mask[0, 0, 0] = True
    labels = None
    if classes:
        labels = rng.integers(d_out, size=(b, t))
        mask = np.repeat(mask[..., :1], d_out, axis=2)
        return TrialBatch(rng.standard_normal((b, t, d_in)), np.eye(d_out)[labels], mask, dt,
                          labels=labels)
    return TrialBatch(rng.standard_normal((b, t, d_in)), rng.standard_normal((b, t, d_out)),
                      mask, dt, labels=labels)


def _numpy_objective(tr, batch):
    """The trainer's objective computed from the converted network with the NumPy simulator."""
    net = tr.to_network()
    u = batch.inputs
    if net.d_in == u.shape[2] + 1:  # the bias became a constant input channel
        u = np.concatenate([u, np.ones(u.shape[:2] + (1,))], axis=2)
    traj = simulate(net, u, tr.initial_state(), dt=batch.dt)
    z, x = traj.z[:, 1:], traj.x[:, 1:]
    m = batch.mask
    if tr.loss == "mse":
        data = ((z - batch.targets) ** 2)[m].sum() / m.sum()
    else:
        steps = m.any(axis=2)
        zmax = z.max(axis=2, keepdims=True)
        logp = z - zmax - np.log(np.exp(z - zmax).sum(axis=2, keepdims=True))
        nll = -np.take_along_axis(logp, batch.labels[..., None], axis=2)[..., 0]
        data = (nll * steps).sum() / steps.sum()
    total = data + tr.l2_rates * np.mean(np.tanh(x) ** 2)
    for name, p in tr.model_.named_parameters():
        if name in ("M", "N", "J", "random", "I", "W"):
            total += tr.l2_weights * float((p.detach() ** 2).sum())
    return total


def _check_gradients(tr, batch, n_checks=3, seed=2):
    loss = tr.batch_loss(batch)
    loss.backward()
    assert abs(float(loss.detach()) - _numpy_objective(tr, batch)) < 1e-11
    rng = np.random.default_rng(seed)
    h = 1e-6
    for name, p in tr.model_.named_parameters():
        for _ in range(n_checks):
            idx = tuple(int(rng.integers(s)) for s in p.shape)
            with torch.no_grad():
                p[idx] += h
            up = _numpy_objective(tr, batch)
            with torch.no_grad():
                p[idx] -= 2 * h
            down = _numpy_objective(tr, batch)
            with torch.no_grad():
                p[idx] += h
            fd = (up - down) / (2 * h)
            assert abs(float(p.grad[idx]) - fd) < 1e-7 + 1e-5 * abs(fd), (name, idx)


@pytest.mark.parametrize("rank", [2, None])
@pytest.mark.parametrize(
    "kw",
    [
        dict(loss="cross_entropy"),
        dict(l2_rates=0.3),
        dict(l2_weights=0.05),
        dict(trainable=("I", "W", "b", "x0")),
    ],
    ids=["cross_entropy", "l2_rates", "l2_weights", "bias_x0"],
)
def test_loss_and_regulariser_gradients_match_finite_differences(rank, kw):
    batch = _batch(0, classes=kw.get("loss") == "cross_entropy", d_out=3)
    init_x0 = np.random.default_rng(9).standard_normal(5) * 0.5
    tr = BPTTTrainer(5, rank, dtype="float64", random_state=1, init_x0=init_x0, **kw)
    tr.initialize(2, 3, batch.dt)
    if "b" in tr.trainable:
        with torch.no_grad():
            tr.model_.b.copy_(torch.linspace(-0.5, 0.5, 5, dtype=torch.float64))
    _check_gradients(tr, batch)


def test_mask_and_dale_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    mask = rng.random((6, 6)) < 0.5
    batch = _batch(1, d_out=1)
    for kw in (dict(rank=2, connectivity_mask=mask), dict(rank=None, connectivity_mask=mask),
               dict(rank=1, dale=0.5), dict(rank=None, dale=0.5, connectivity_mask=mask)):
        tr = BPTTTrainer(6, dtype="float64", init_gain=0.8, random_state=4, **kw)
        tr.initialize(2, 1, batch.dt)
        _check_gradients(tr, batch, n_checks=2)


def test_output_bias_gradient_and_to_network_refusal():
    batch = _batch(2, d_out=2)
    tr = BPTTTrainer(4, 1, dtype="float64", trainable=("W", "b_out"), random_state=0)
    tr.initialize(2, 2, batch.dt)
    loss = tr.batch_loss(batch)
    loss.backward()
    # d/d b_out of sum(mask (z - y)^2) / sum(mask): 2 sum_mask (z - y) / sum(mask) per channel
    z = tr.predict(batch.inputs)
    want = 2 * ((z - batch.targets) * batch.mask).sum(axis=(0, 1)) / batch.mask.sum()
    np.testing.assert_allclose(tr.model_.b_out.grad.numpy(), want, atol=1e-12)
    with torch.no_grad():
        tr.model_.b_out += 0.1
    with pytest.raises(ValueError, match="b_out"):
        tr.to_network()


def _reference_adam(params, grads_fn, n_steps, lr, wd, clip, b1=0.9, b2=0.999, eps=1e-8):
    """Adam (Kingma & Ba 2015, Algorithm 1) with L2 weight decay added to the gradient and
    global gradient-norm clipping, written out independently of torch.optim."""
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, n_steps + 1):
        g = grads_fn(params)
        norm = np.sqrt(sum((gi**2).sum() for gi in g))
        factor = min(1.0, clip / (norm + 1e-6))
        g = [gi * factor + wd * p for gi, p in zip(g, params, strict=True)]
        for i, gi in enumerate(g):
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi**2
            mhat, vhat = m[i] / (1 - b1**t), v[i] / (1 - b2**t)
            params[i] = params[i] - lr * mhat / (np.sqrt(vhat) + eps)
    return params


@pytest.mark.parametrize("rank", [2, None])
def test_torch_adam_equals_reference_adam_after_20_steps(rank):
    batch = _batch(5, b=8, t=10, d_in=2, d_out=1)
    kw = dict(lr=0.02, n_epochs=20, batch_size=8, grad_clip=0.5, weight_decay=0.01,
              dtype="float64", random_state=7)
    tr = BPTTTrainer(6, rank, **kw).fit(batch)
    ref = BPTTTrainer(6, rank, **kw).initialize(2, 1, batch.dt)
    names = [n for n, _ in ref.model_.named_parameters()]
    start = [p.detach().numpy().copy() for _, p in ref.model_.named_parameters()]

    def grads(params):
        with torch.no_grad():
            for (_, p), v in zip(ref.model_.named_parameters(), params, strict=True):
                p.copy_(torch.as_tensor(v))
        for _, p in ref.model_.named_parameters():
            p.grad = None
        ref.batch_loss(batch).backward()
        return [p.grad.numpy().copy() for _, p in ref.model_.named_parameters()]

    out = _reference_adam(start, grads, 20, 0.02, 0.01, 0.5)
    got = dict(tr.model_.named_parameters())
    for name, want in zip(names, out, strict=True):
        np.testing.assert_allclose(got[name].detach().numpy(), want, atol=1e-6, rtol=0)


def test_mask_and_dale_hold_after_training():
    rng = np.random.default_rng(0)
    n = 20
    mask = rng.random((n, n)) < 0.3
    batch = random_dots_trials(32, rng=1)
    for kw in (dict(rank=2), dict(rank=None)):
        tr = BPTTTrainer(n, connectivity_mask=mask, dale=0.8, n_epochs=5, batch_size=16,
                         lr=0.05, init_gain=0.5, random_state=2, **kw).fit(batch)
        J = tr.effective_connectivity()
        assert np.all(J[~mask] == 0)
        signs = np.where(np.arange(n) < 16, 1.0, -1.0)
        assert np.all(J * signs[None, :] >= 0)  # column j (from neuron j) has neuron j's sign
        assert np.any(J[:, :16] > 0) and np.any(J[:, 16:] < 0)
        # the converted network uses the same matrix, and simulate agrees with predict
        np.testing.assert_allclose(tr.to_network().to_dense(), J, atol=1e-5)
    lr = BPTTTrainer(n, 2, connectivity_mask=sp.csr_array(mask), n_epochs=3, batch_size=16,
                     random_state=2).fit(batch)
    net = lr.to_network()
    assert net.mask is not None and net.rank == 2
    np.testing.assert_array_equal(net.mask.toarray() != 0, mask)
    z = simulate(net, batch.inputs, lr.initial_state(), dt=batch.dt).z[:, 1:]
    np.testing.assert_allclose(lr.predict(batch.inputs), z, atol=1e-4)


def _same_state(a, b):
    sa, sb = a.model_.state_dict(), b.model_.state_dict()
    assert sa.keys() == sb.keys()
    for k, v in sa.items():
        assert torch.equal(v, sb[k]) if isinstance(v, torch.Tensor) else v == sb[k], k


def _gen(rng):
    return random_dots_trials(8, rng=rng)


def test_generator_fed_training_is_reproducible_per_seed():
    kw = dict(n_epochs=3, batches_per_epoch=2, noise=0.05, lr=0.02)
    a = BPTTTrainer(10, 1, random_state=5, **kw).fit(_gen)
    b = BPTTTrainer(10, 1, random_state=5, **kw).fit(_gen)
    c = BPTTTrainer(10, 1, random_state=6, **kw).fit(_gen)
    _same_state(a, b)
    assert a.history_["train_loss"] == b.history_["train_loss"]
    assert a.info_["n_steps"] == 6
    assert not torch.equal(a.model_.M, c.model_.M)


def test_fresh_trials_differ_between_steps():
    seen = []

    def gen(rng):
        batch = random_dots_trials(4, rng=rng)
        seen.append(batch.info["coherence"].copy())
        return batch

    BPTTTrainer(5, 1, n_epochs=2, batches_per_epoch=3, random_state=0).fit(gen)
    assert len(seen) == 1 + 6  # the probe, then one per step
    assert len({tuple(s) for s in seen[1:]}) > 1


@pytest.mark.parametrize("float64", [True, False])
def test_warm_start_reproduces_the_network_exactly(float64):
    rng = np.random.default_rng(1)
    n = 12
    mask = sp.random(n, n, density=0.4, random_state=3, data_rvs=np.ones)
    net = LowRankRNN(M=rng.standard_normal((n, 2)), N=rng.standard_normal((n, 2)),
                     I=rng.standard_normal((n, 3)), W=rng.standard_normal((n, 2)),
                     random=0.3 * rng.standard_normal((n, n)) / np.sqrt(n), mask=mask,
                     scale=0.7, readout_scale=0.5, tau=2.0, phi="tanh")
    x0 = rng.standard_normal(n)
    u = rng.standard_normal((4, 30, 3))
    want = simulate(net, u, x0, dt=0.1).z[:, 1:]
    for rank in (2, None):
        tr = BPTTTrainer(rank=rank, init_network=net, init_x0=x0,
                         dtype="float64" if float64 else "float32", random_state=0)
        tr.initialize(3, 2, 0.1)
        np.testing.assert_allclose(tr.predict(u), want, atol=1e-12 if float64 else 1e-5)
    assert tr.tau == 2.0 and tr.readout_scale == 0.5


def test_optimizers_and_schedulers_from_torch_optim():
    batch = _batch(4, b=8, t=5, d_in=2, d_out=1)
    for opt in ("adamw", torch.optim.SGD, "rmsprop"):
        tr = BPTTTrainer(4, 1, optimizer=opt, lr=0.01, n_epochs=2, batch_size=8,
                         random_state=0).fit(batch)
        assert type(tr.optimizer_).__name__.lower() in ("adamw", "sgd", "rmsprop")
    tr = BPTTTrainer(4, 1, lr=0.1, n_epochs=5, batch_size=8, scheduler="steplr",
                     scheduler_kwargs={"step_size": 2, "gamma": 0.5}, random_state=0).fit(batch)
    np.testing.assert_allclose(tr.history_["lr"], [0.1, 0.1, 0.05, 0.05, 0.025])
    lb = BPTTTrainer(4, 1, optimizer="lbfgs", lr=0.5, n_epochs=3, batch_size=8, grad_clip=None,
                     optimizer_kwargs={"max_iter": 5}, dtype="float64", random_state=0)
    lb.fit(batch)
    assert lb.history_["train_loss"][-1] < lb.history_["train_loss"][0]
    custom = BPTTTrainer(4, 1, loss=lambda z, y, m: ((z - y) ** 2 * m).sum() / m.sum(),
                         n_epochs=2, batch_size=8, random_state=0).fit(batch)
    plain = BPTTTrainer(4, 1, n_epochs=2, batch_size=8, random_state=0).fit(batch)
    np.testing.assert_allclose(custom.history_["train_loss"], plain.history_["train_loss"])


def test_keep_best_and_early_stopping():
    train = random_dots_trials(32, rng=0)
    val = random_dots_trials(32, rng=1)
    tr = BPTTTrainer(16, 1, lr=0.05, n_epochs=12, batch_size=16, keep_best=True,
                     random_state=0).fit(train, val)
    best = int(np.argmin(tr.history_["val_loss"]))
    assert tr.info_["best_epoch"] == best + 1
    assert tr.score(val) == pytest.approx(tr.history_["val_loss"][best], rel=1e-5)
    # nothing can improve with a vanishing learning rate: stop after `patience` epochs
    st = BPTTTrainer(16, 1, lr=1e-12, n_epochs=50, batch_size=32, early_stopping=2,
                     random_state=0).fit(train, val)
    assert st.info_["stopped_early"] and st.epochs_done_ == 3
    with pytest.raises(ValueError, match="validation"):
        BPTTTrainer(4, 1, keep_best=True).fit(train)


class _Planted:
    """An object whose unpickling creates a file (what a crafted checkpoint could do)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        import pathlib

        return (pathlib.Path.touch, (pathlib.Path(self.path),))


def test_checkpoint_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    planted = tmp_path / "pwned"
    bad = tmp_path / "evil.pt"
    torch.save({"format": "lowrank-rnn-bptt-checkpoint", "version": 1,
                "payload": _Planted(planted)}, bad)
    assert not planted.exists()
    with pytest.raises(ValueError, match="evil.pt"):
        BPTTTrainer.load(bad)
    assert not planted.exists()
    # fit() resumes from an existing checkpoint: the same safe reader refuses it
    batch = _batch(0, d_in=2, d_out=1)
    with pytest.raises(ValueError, match="not a safe"):
        BPTTTrainer(3, 1, n_epochs=1, checkpoint=bad).fit(batch)
    assert not planted.exists()
    # the payload really is live: the unsafe reader would have run it
    torch.load(bad, weights_only=False)
    assert planted.exists()


def test_load_rebuilds_the_trainer_from_the_file(tmp_path):
    batch = random_dots_trials(16, rng=0)
    mask = np.random.default_rng(0).random((8, 8)) < 0.5
    path = tmp_path / "ck.pt"
    tr = BPTTTrainer(8, 2, lr=0.03, optimizer="adamw", scheduler="steplr",
                     scheduler_kwargs={"step_size": 1, "gamma": 0.9}, connectivity_mask=mask,
                     trainable=("M", "N", "W", "x0"), n_epochs=3, batch_size=8, noise=0.05,
                     checkpoint=path, random_state=1).fit(batch)
    re = BPTTTrainer.load(path)
    assert re.rank == 2 and re.trainable == ("M", "N", "W", "x0") and re.lr == 0.03
    assert type(re.optimizer_).__name__ == "AdamW" and re.epochs_done_ == 3
    np.testing.assert_allclose(re.predict(batch.inputs), tr.predict(batch.inputs), atol=0)
    assert re.history_["train_loss"] == tr.history_["train_loss"]
    # continuing the loaded trainer equals training 5 epochs straight
    straight = BPTTTrainer(8, 2, lr=0.03, optimizer="adamw", scheduler="steplr",
                           scheduler_kwargs={"step_size": 1, "gamma": 0.9},
                           connectivity_mask=mask, trainable=("M", "N", "W", "x0"), n_epochs=5,
                           batch_size=8, noise=0.05, random_state=1).fit(batch)
    re.fit_more(batch, n_epochs=2)
    _same_state(straight, re)
    # no pickled object is needed: the file opens with weights_only=True
    state = torch.load(path, weights_only=True)
    assert state["numpy_rng"].dtype == torch.int64 and state["numpy_rng"].shape == (6,)


def test_save_in_the_library_format_round_trips(tmp_path):
    import lowrank_rnn

    batch = random_dots_trials(16, rng=0)
    tr = BPTTTrainer(8, 1, trainable=("M", "N", "W", "b"), n_epochs=2, batch_size=8,
                     scheduler="steplr", scheduler_kwargs={"step_size": 1},
                     random_state=0).fit(batch)
    path = tr.save(tmp_path / "trainer.npz")
    for re in (BPTTTrainer.load(path), lowrank_rnn.load(path)):
        assert isinstance(re, BPTTTrainer) and re.epochs_done_ == 2
        np.testing.assert_array_equal(re.predict(batch.inputs), tr.predict(batch.inputs))
        np.testing.assert_equal(re.history_, tr.history_)  # NaN where no validation
    # it continues exactly like the original
    a = re.fit_more(batch, n_epochs=1)
    b = tr.fit_more(batch, n_epochs=1)
    _same_state(a, b)


def test_progress_writes_log_lines_when_not_a_terminal(capsys):
    batch = random_dots_trials(8, rng=0)
    BPTTTrainer(4, 1, n_epochs=2, batch_size=8, progress=True, random_state=0).fit(batch, batch)
    err = capsys.readouterr().err
    assert "BPTT epoch 1/2" in err and "BPTT epoch 2/2" in err and "val" in err


def test_truncate_rank_is_the_eckart_young_approximation_on_the_trainers_scale():
    import scipy.linalg

    from lowrank_rnn.fit.bptt import truncate_rank

    rng = np.random.default_rng(7)
    n = 30
    full = LowRankRNN(M=rng.standard_normal((n, 1)), N=rng.standard_normal((n, 1)),
                      I=rng.standard_normal((n, 2)), W=rng.standard_normal((n, 1)),
                      random=rng.standard_normal((n, n)) / np.sqrt(n), scale=0.5 / n,
                      readout_scale=0.5, tau=2.0)
    J = full.to_dense()
    s = scipy.linalg.svdvals(J)
    for r in (1, 3, n):
        net = truncate_rank(full, r)
        assert net.M.shape == net.N.shape == (n, r) and net.random is None
        assert net.scale == 1.0 / n  # the parametrisation BPTTTrainer draws
        np.testing.assert_allclose(net.N.T @ net.N / n, np.eye(r), atol=1e-10)
        np.testing.assert_allclose(np.sort(np.linalg.norm(net.M, axis=0) / np.sqrt(n)),
                                   np.sort(s[:r]), rtol=1e-10)
        # the Frobenius error of the best rank-r matrix is the norm of the dropped spectrum
        err = np.linalg.norm(J - net.to_dense())
        assert err == pytest.approx(np.sqrt(np.sum(s[r:] ** 2)), abs=1e-9)
        np.testing.assert_array_equal(net.I, full.I)
        assert (net.tau, net.readout_scale) == (2.0, 0.5)
    # at full rank the dynamics are the original network's
    u = rng.standard_normal((2, 20, 2))
    np.testing.assert_allclose(simulate(truncate_rank(full, n), u, dt=0.1).z,
                               simulate(full, u, dt=0.1).z, atol=1e-10)
    # an exactly rank-2 matrix (a masked one too) is recovered
    mask = sp.random(n, n, density=0.5, random_state=1, data_rvs=np.ones)
    low = LowRankRNN(M=rng.standard_normal((n, 2)), N=rng.standard_normal((n, 2)),
                     I=rng.standard_normal((n, 1)), W=rng.standard_normal((n, 1)))
    np.testing.assert_allclose(truncate_rank(low, 2).to_dense(), low.to_dense(), atol=1e-10)
    masked = low.replace(mask=mask)
    np.testing.assert_allclose(truncate_rank(masked, n).to_dense(), masked.to_dense(),
                               atol=1e-10)
    for bad in (0, n + 1):
        with pytest.raises(ValueError, match="rank"):
            truncate_rank(full, bad)
