"""BPTT trainer: gradients vs finite differences, a convex task's closed-form optimum, the
torch forward pass vs the NumPy simulation, checkpoints, bad input."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lowrank_rnn.fit.bptt import BPTTTrainer, masked_mse  # noqa: E402
from lowrank_rnn.simulate import simulate  # noqa: E402
from lowrank_rnn.tasks import TrialBatch  # noqa: E402


def _batch(rng, b=3, t=6, d_in=2, d_out=2, dt=0.2):
    rng = np.random.default_rng(rng)
    mask = rng.random((b, t, d_out)) < 0.7
    mask[0, 0, 0] = True
    return TrialBatch(rng.standard_normal((b, t, d_in)), rng.standard_normal((b, t, d_out)),
                      mask, dt, "test")


def _numpy_loss(trainer, batch):
    net = trainer.to_network()
    z = simulate(net, batch.inputs, trainer.initial_state(), dt=batch.dt).z[:, 1:]
    return masked_mse(z, batch.targets, batch.mask)


@pytest.mark.parametrize("rank", [2, None])
def test_gradient_matches_finite_differences_of_numpy_simulation(rank):
    batch = _batch(0)
    tr = BPTTTrainer(4, rank, dtype="float64", x0_input=1, random_state=1)
    tr.initialize(2, 2, batch.dt)
    loss = tr.batch_loss(batch)
    loss.backward()
    assert abs(float(loss.detach()) - _numpy_loss(tr, batch)) < 1e-12
    rng = np.random.default_rng(2)
    h = 1e-6
    for name, p in tr.model_.named_parameters():
        for _ in range(3):
            idx = tuple(int(rng.integers(s)) for s in p.shape)
            with torch.no_grad():
                p[idx] += h
            up = _numpy_loss(tr, batch)
            with torch.no_grad():
                p[idx] -= 2 * h
            down = _numpy_loss(tr, batch)
            with torch.no_grad():
                p[idx] += h
            fd = (up - down) / (2 * h)
            assert abs(float(p.grad[idx]) - fd) < 1e-7 + 1e-5 * abs(fd), (name, idx)


@pytest.mark.parametrize("rank", [1, None])
def test_forward_equals_numpy_simulation_of_converted_network(rank):
    batch = _batch(3, b=5, t=30, d_in=2, d_out=1, dt=0.1)
    tr = BPTTTrainer(7, rank, dtype="float64", x0_input=1, init_gain=1.5, random_state=4)
    tr.initialize(2, 1, 0.1)
    net = tr.to_network()
    assert net.n_neurons == 7 and net.rank == (rank or 7)
    z_np = simulate(net, batch.inputs, tr.initial_state(), dt=0.1).z[:, 1:]
    np.testing.assert_allclose(tr.predict(batch.inputs), z_np, atol=1e-12)
    if rank is None:  # the exact SVD factorisation reproduces J
        J = tr.model_.J.detach().numpy()
        np.testing.assert_allclose(net.to_dense(), J, atol=1e-12)


def test_linear_convex_task_reaches_least_squares_optimum():
    """Linear network, only the input loadings trained: the output is linear in I, so the
    optimum is the least-squares solution built from one simulation per unit loading."""
    rng = np.random.default_rng(5)
    b, t, n = 8, 15, 4
    batch = TrialBatch(rng.standard_normal((b, t, 1)), rng.standard_normal((b, t, 1)),
                       np.ones((b, t, 1), bool), 0.2, "test")
    tr = BPTTTrainer(n, 1, phi="linear", lr=0.1, n_epochs=250, batch_size=b, grad_clip=None,
                     trainable=("I",), dtype="float64", random_state=6)
    tr.initialize(1, 1, 0.2)
    base = tr.to_network()
    cols = []
    for j in range(n):
        e = np.zeros((n, 1))
        e[j] = 1.0
        cols.append(simulate(base.replace(I=e), batch.inputs, dt=0.2).z[:, 1:].ravel())
    A = np.stack(cols, axis=1)
    coef, *_ = np.linalg.lstsq(A, batch.targets.ravel(), rcond=None)
    best = float(np.mean((A @ coef - batch.targets.ravel()) ** 2))
    tr.fit(batch)
    assert tr.n_params_ == n
    assert tr.history_["train_loss"][-1] < tr.history_["train_loss"][0]
    assert tr.score(batch) <= best * (1 + 1e-4) + 1e-10
    # the optimal prediction (projection on the span of A) is unique even where I is not
    pred = tr.predict(batch.inputs).ravel()
    np.testing.assert_allclose(pred, A @ coef, atol=1e-2 * np.abs(A @ coef).max())


def test_checkpoint_resume_equals_uninterrupted_training(tmp_path):
    batch = _batch(7, b=16, t=10, d_in=2, d_out=1)
    kw = dict(rank=2, lr=0.02, batch_size=4, noise=0.1, dtype="float64", random_state=3)
    straight = BPTTTrainer(5, n_epochs=4, **kw).fit(batch)
    ckpt = tmp_path / "ck" / "state.pt"
    BPTTTrainer(5, n_epochs=2, checkpoint=ckpt, checkpoint_every=1, **kw).fit(batch)
    assert ckpt.exists() and not list(ckpt.parent.glob(".*tmp*"))
    resumed = BPTTTrainer(5, n_epochs=4, checkpoint=ckpt, **kw).fit(batch)
    assert resumed.epochs_done_ == 4 and len(resumed.history_["train_loss"]) == 4
    np.testing.assert_allclose(resumed.history_["train_loss"], straight.history_["train_loss"])
    for (k, a), (_, c) in zip(straight.model_.state_dict().items(),
                              resumed.model_.state_dict().items(), strict=True):
        # the module's state dict also holds its scalars (a dict): equal as plain values
        assert torch.equal(a, c) if isinstance(a, torch.Tensor) else a == c, k
    other = BPTTTrainer(6, n_epochs=4, checkpoint=ckpt, **kw)
    with pytest.raises(ValueError, match="checkpoint"):
        other.fit(batch)


def test_progress_bar_and_validation_curve():
    batch = _batch(8, b=8, t=5, d_in=2, d_out=1)
    tr = BPTTTrainer(3, 1, n_epochs=2, batch_size=4, progress=True, random_state=0)
    tr.fit(batch, validation=batch)
    assert len(tr.history_["val_loss"]) == 2 and np.isfinite(tr.history_["val_loss"]).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    batch = _batch(9, b=4, t=20, d_in=2, d_out=1)
    cpu = BPTTTrainer(16, 2, dtype="float64", random_state=1).initialize(2, 1, batch.dt)
    gpu = BPTTTrainer(16, 2, dtype="float64", device="cuda", random_state=1)
    gpu.initialize(2, 1, batch.dt)
    np.testing.assert_allclose(gpu.predict(batch.inputs), cpu.predict(batch.inputs), atol=1e-10)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(n_neurons=3, rank=4), "rank"),
        (dict(n_neurons=3, rank=0), "rank"),
        (dict(n_neurons=3, lr=0.0), "lr"),
        (dict(n_neurons=3, lr=-1e-3), "lr"),
        (dict(n_neurons=3, device="tpu"), "device"),
        (dict(n_neurons=3, rank=1, trainable=("J",)), "trainable"),
        (dict(n_neurons=3, grad_clip=0.0), "grad_clip"),
        (dict(n_neurons=0), "n_neurons"),
    ],
)
def test_bad_parameters(kw, match):
    with pytest.raises(ValueError, match=match):
        BPTTTrainer(**kw)


def test_bad_batches_and_unfitted():
    tr = BPTTTrainer(3, 1, n_epochs=1)
    with pytest.raises(ValueError, match="not initialised"):
        tr.predict(np.zeros((1, 2, 1)))
    with pytest.raises(ValueError, match="TrialBatch"):
        tr.fit(np.zeros((1, 2, 1)))
    tr.fit(_batch(0, d_in=2, d_out=1))
    with pytest.raises(ValueError, match="d_in"):
        tr.predict(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="dt"):
        tr.score(_batch(0, d_in=2, d_out=1, dt=0.5))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cuda"):
            BPTTTrainer(3, 1, device="cuda").fit(_batch(0, d_in=2, d_out=1))
