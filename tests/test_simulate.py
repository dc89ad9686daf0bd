"""simulate: operators against a dense reference, backends, Euler order, OU variance, bad input."""

import numpy as np
import pytest

from lowrank_rnn.connectivity import add_random, gaussian_matrix, low_rank_network, rank_one_network
from lowrank_rnn.simulate import fast_tanh, operator_kind, simulate


def dense_reference(J, I, inputs, x0, dt, n_steps, tau=1.0):
    """One trial at a time, dense matrix-vector Euler loop in float64."""
    out = []
    for b in range(x0.shape[0]):
        x = x0[b].copy()
        xs = [x.copy()]
        for k in range(n_steps):
            drive = -x + J @ np.tanh(x)
            if I is not None:
                drive = drive + I @ inputs[b, k]
            x = x + dt / tau * drive
            xs.append(x.copy())
        out.append(xs)
    return np.array(out)


def _nets(n=120):
    rng = np.random.default_rng(0)
    I = rng.standard_normal((n, 2))
    low = rank_one_network(n, 2.0, 1.5, rng=1).replace(I=I)
    sparse = rank_one_network(n, 0.2, 0.1, c=20, rescaled=True, rng=2).replace(I=I)
    dense = add_random(low_rank_network(rng.standard_normal((n, 2)), rng.standard_normal((n, 2))),
                       0.8, rng=3).replace(I=I)
    sparse_rand = low_rank_network(rng.standard_normal((n, 1)), rng.standard_normal((n, 1)),
                                   I=I).replace(random=gaussian_matrix(n, 1.2, c=10, rng=4))
    # neurons without any input connection (empty CSR rows)
    mask = sparse.mask.tolil()
    mask[: n // 4] = 0
    empty_rows = sparse.replace(mask=mask.tocsr())
    return {"lowrank": low, "csr": sparse, "dense": dense, "csr+factors": sparse_rand,
            "csr-empty-rows": empty_rows}


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("name", ["lowrank", "csr", "dense", "csr+factors", "csr-empty-rows"])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 2e-4)])
def test_operators_match_dense_reference(name, dtype, tol, backend):
    if backend == "torch":
        pytest.importorskip("torch")
    net = _nets()[name]
    assert operator_kind(net) == name.split("+")[0].split("-")[0]
    rng = np.random.default_rng(5)
    inputs = rng.standard_normal((3, 40, 2))
    x0 = rng.standard_normal((3, net.n_neurons))
    ref = dense_reference(net.to_dense(), net.I, inputs, x0, 0.1, 40)
    tr = simulate(net, inputs, x0, dt=0.1, dtype=dtype, backend=backend)
    np.testing.assert_allclose(tr.x, ref, atol=tol * max(1, np.abs(ref).max()))
    # projections computed during the run agree with projections of the stored states
    kappa_ref = np.linalg.lstsq(net.M, ref.reshape(-1, net.n_neurons).T, rcond=None)[0]
    np.testing.assert_allclose(tr.kappa, kappa_ref.T.reshape(tr.kappa.shape),
                               atol=tol * max(1, np.abs(kappa_ref).max()))


@pytest.mark.parametrize("name", ["lowrank", "csr", "dense", "csr+factors"])
def test_numpy_and_torch_backends_agree(name):
    pytest.importorskip("torch")
    net = _nets()[name]
    rng = np.random.default_rng(6)
    inputs = rng.standard_normal((4, 30, 2))
    x0 = rng.standard_normal(net.n_neurons)
    a = simulate(net, inputs, x0, dt=0.05)
    b = simulate(net, inputs, x0, dt=0.05, backend="torch", device="cpu")
    np.testing.assert_allclose(b.x, a.x, atol=1e-9)
    np.testing.assert_allclose(b.kappa, a.kappa, atol=1e-9)


@pytest.mark.parametrize("dense_limit", [0, 10**6])
def test_torch_cuda_agrees_when_available(dense_limit, monkeypatch):
    """Both CUDA operators for a sparse network: cuSPARSE CSR and the dense device copy."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    import importlib

    monkeypatch.setattr(importlib.import_module("lowrank_rnn.simulate"), "CUDA_DENSE_LIMIT",
                        dense_limit)
    net = _nets()["csr"]
    x0 = np.random.default_rng(1).standard_normal(net.n_neurons)
    a = simulate(net, None, x0, dt=0.1, n_steps=50, batch=2, dtype=np.float32)
    b = simulate(net, None, x0, dt=0.1, n_steps=50, batch=2, dtype=np.float32,
                 backend="torch", device="cuda")
    np.testing.assert_allclose(b.x, a.x, atol=1e-4)


def test_euler_converges_with_order_one():
    """Deterministic run: the error against a fine-step reference halves when dt halves."""
    net = rank_one_network(60, 4.0, 2.5, g=0.5, rng=0)
    x0 = np.random.default_rng(2).standard_normal(60)
    T = 2.0
    ref = simulate(net, None, x0, dt=T / 8192, n_steps=8192).x[0, -1]
    errs = []
    for steps in (32, 64, 128, 256):
        xT = simulate(net, None, x0, dt=T / steps, n_steps=steps).x[0, -1]
        errs.append(np.abs(xT - ref).max())
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(orders - 1.0) < 0.15), orders


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_network_noise_matches_ou_variance(seed, backend):
    """No recurrence, linear phi: dx = -x dt/tau + (s/tau) dW, stationary var s^2 / (2 tau).

    The Euler–Maruyama chain has the exact stationary variance
    ``(s sqrt(dt)/tau)^2 / (1 - (1 - dt/tau)^2)``; with 4000 independent neurons and 200
    approximately independent samples each, the sample variance has relative sd ~ sqrt(2/(K)).
    """
    n, tau, s, dt = 4000, 2.0, 0.7, 0.05
    net = low_rank_network(np.zeros((n, 1)), np.zeros((n, 1)), tau=tau, phi="linear")
    if backend == "torch":
        pytest.importorskip("torch")
    tr = simulate(net, None, None, dt=dt, n_steps=4000, noise=s, rng=seed, save_every=20,
                  keep_x=True, backend=backend)
    samples = tr.x[0, 100:]  # after 5 relaxation times
    a = dt / tau
    exact_chain = (s * np.sqrt(dt) / tau) ** 2 / (1 - (1 - a) ** 2)
    assert abs(exact_chain - s**2 / (2 * tau)) < 0.02 * s**2 / (2 * tau)
    k_eff = n * samples.shape[0] / 2  # samples 1 tau apart are correlated by exp(-0.5)
    assert abs(samples.var() / exact_chain - 1) < 5 * np.sqrt(2 / k_eff)


def test_same_seed_same_noise_and_save_every():
    net = rank_one_network(50, 1.0, 0.5, rng=0)
    a = simulate(net, None, None, dt=0.1, n_steps=20, noise=0.3, rng=4, batch=2)
    b = simulate(net, None, None, dt=0.1, n_steps=20, noise=0.3, rng=4, batch=2)
    np.testing.assert_array_equal(a.x, b.x)
    c = simulate(net, None, None, dt=0.1, n_steps=20, noise=0.3, rng=4, batch=2, save_every=5)
    np.testing.assert_array_equal(c.x, a.x[:, ::5])
    np.testing.assert_allclose(c.t, [0, 0.5, 1.0, 1.5, 2.0])


def test_latent_projection_and_readout_fields():
    net = rank_one_network(80, 1.0, 0.5, rng=0)
    rng = np.random.default_rng(3)
    I = rng.standard_normal((80, 1))
    W = rng.standard_normal((80, 1))
    net = net.replace(I=I, W=W, readout_scale=1 / 80)
    u = rng.standard_normal((2, 10, 1))
    tr = simulate(net, u, None, dt=0.1, project_on=np.hstack([net.M, I]))
    V = np.hstack([net.M, I])
    expect = np.linalg.lstsq(V, tr.x.reshape(-1, 80).T, rcond=None)[0].T.reshape(2, 11, 2)
    np.testing.assert_allclose(tr.latent, expect, atol=1e-10)
    np.testing.assert_allclose(tr.z[..., 0], np.tanh(tr.x) @ W[:, 0] / 80, atol=1e-12)
    lean = simulate(net, u, None, dt=0.1, keep_x=False)
    assert lean.x is None
    np.testing.assert_allclose(lean.z, tr.z)


def test_fast_tanh_accuracy():
    x = np.linspace(-60, 60, 200001).astype(np.float32)
    err = np.abs(fast_tanh(x).astype(np.float64) - np.tanh(x.astype(np.float64)))
    assert err.max() < 3e-7
    torch = pytest.importorskip("torch")
    import importlib

    sim = importlib.import_module("lowrank_rnn.simulate")
    y = sim._torch_fast_tanh(torch.from_numpy(x)).numpy()
    assert np.abs(y.astype(np.float64) - np.tanh(x.astype(np.float64))).max() < 3e-7


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"inputs": np.zeros((2, 10))}, "inputs"),
        ({"inputs": np.zeros((2, 10, 3))}, "inputs"),
        ({"dt": 0.0}, "dt"),
        ({"dt": -1.0}, "dt"),
        ({"x0": np.full(30, np.nan)}, "x0"),
        ({"x0": np.zeros((3, 30)), "inputs": np.zeros((2, 10, 1))}, "batch"),
        ({"backend": "jax"}, "backend"),
        ({"dtype": np.int32}, "dtype"),
        ({"device": "cpu"}, "device"),
        ({"project_on": np.zeros((5, 1))}, "project_on"),
        ({"noise": -1.0}, "noise"),
    ],
)
def test_bad_input_raises_value_error_naming_it(kwargs, name):
    net = rank_one_network(30, 1.0, 0.5, rng=0).replace(I=np.ones((30, 1)))
    kw = {"dt": 0.1, "n_steps": 5}
    kw.update(kwargs)
    inputs = kw.pop("inputs", None)
    x0 = kw.pop("x0", None)
    with pytest.raises(ValueError, match=name):
        simulate(net, inputs, x0, **kw)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_csr_chunking_over_trials_gives_the_same_trajectories(monkeypatch, backend):
    """Trials are advanced in cache-sized chunks for the CSR operator; results must not
    depend on the chunking (deterministic run, also the noise-free readout)."""
    import importlib

    if backend == "torch":
        pytest.importorskip("torch")
    sim = importlib.import_module("lowrank_rnn.simulate")  # the package re-exports the function

    net = _nets()["csr"]
    rng = np.random.default_rng(9)
    inputs = rng.standard_normal((40, 15, 2))
    x0 = rng.standard_normal((40, net.n_neurons))
    monkeypatch.setattr(sim, "CSR_BLOCK_BYTES", {backend: 1 << 40})  # one chunk
    assert sim._csr_chunk(net.n_neurons, np.dtype(np.float64), 40, backend) == 40
    whole = simulate(net, inputs, x0, dt=0.1, backend=backend)
    monkeypatch.setattr(sim, "CSR_BLOCK_BYTES", {backend: 16 * net.n_neurons * 8})
    assert sim._csr_chunk(net.n_neurons, np.dtype(np.float64), 40, backend) == 16
    chunked = simulate(net, inputs, x0, dt=0.1, backend=backend)
    np.testing.assert_allclose(chunked.x, whole.x, atol=1e-12)
    np.testing.assert_allclose(chunked.kappa, whole.kappa, atol=1e-12)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_chunked_noisy_runs_do_not_depend_on_threads(monkeypatch, backend):
    """Each chunk of trials draws its noise from its own child generator: the same seed gives
    the same trajectories whether the chunks run on one thread or two."""
    import importlib

    if backend == "torch":
        pytest.importorskip("torch")
    sim = importlib.import_module("lowrank_rnn.simulate")
    net = _nets()["csr"]
    monkeypatch.setattr(sim, "CSR_BLOCK_BYTES", {backend: 16 * net.n_neurons * 4})
    kw = {"dt": 0.1, "n_steps": 30, "batch": 50, "noise": 0.4, "dtype": np.float32,
          "backend": backend}
    two = simulate(net, None, None, rng=3, **kw)
    monkeypatch.setattr(sim, "MAX_THREADS", 1)
    one = simulate(net, None, None, rng=3, **kw)
    np.testing.assert_array_equal(one.x, two.x)
    other = simulate(net, None, None, rng=4, **kw)
    assert not np.allclose(other.x, one.x)


def test_auto_backend_and_torch_threads(monkeypatch):
    """'auto' runs sparse networks on torch when it is installed (numpy otherwise) and leaves
    torch's thread setting as it found it."""
    import importlib

    sim = importlib.import_module("lowrank_rnn.simulate")
    nets = _nets()
    assert sim._resolve_backend("auto", nets["lowrank"], None) == "numpy"
    assert sim._resolve_backend("numpy", nets["csr"], None) == "numpy"
    try:
        import torch
    except ImportError:
        assert sim._resolve_backend("auto", nets["csr"], None) == "numpy"
        return
    assert sim._resolve_backend("auto", nets["csr"], None) == "torch"
    assert sim._resolve_backend("auto", nets["lowrank"], "cpu") == "torch"
    monkeypatch.setattr(sim, "CSR_BLOCK_BYTES", {"torch": 16 * 120 * 8, "numpy": 1 << 40})
    before = torch.get_num_threads()
    tr = simulate(nets["csr"], None, None, dt=0.1, n_steps=5, batch=40, backend="auto")
    ref = simulate(nets["csr"], None, None, dt=0.1, n_steps=5, batch=40)
    np.testing.assert_allclose(tr.x, ref.x, atol=1e-12)
    assert torch.get_num_threads() == before
