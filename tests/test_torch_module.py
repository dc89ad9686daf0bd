"""LowRankModule: the NumPy simulation as the reference for every structure, noise against a
hand-written Euler-Maruyama step fed the module's own draws, gradients against finite
differences, pickling, state dicts read with weights_only=True, and a user's own Adam loop."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")

from lowrank_rnn import LowRankRNN  # noqa: E402
from lowrank_rnn.connectivity import fixed_degree_mask  # noqa: E402
from lowrank_rnn.simulate import simulate  # noqa: E402
from lowrank_rnn.torch import LowRankModule  # noqa: E402

STRUCTURES = ["lowrank", "mask", "sprand", "dense", "mask+sprand", "mask+dense"]


def _net(structure: str, n: int = 40, phi: str = "tanh", seed: int = 0) -> LowRankRNN:
    rng = np.random.default_rng(seed)
    kw = {}
    if "mask" in structure:
        kw["mask"] = fixed_degree_mask(n, 6, rng=rng)
    if "sprand" in structure:
        kw["random"] = sp.random_array((n, n), density=0.1, rng=rng, format="csr")
    if "dense" in structure:
        kw["random"] = rng.normal(size=(n, n)) / np.sqrt(n)
    return LowRankRNN(M=rng.normal(size=(n, 2)), N=rng.normal(size=(n, 2)),
                      I=rng.normal(size=(n, 3)), W=rng.normal(size=(n, 2)), scale=0.4,
                      readout_scale=0.7, tau=1.5, phi=phi, **kw)


def _data(n: int = 40, seed: int = 1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(4, 25, 3)), rng.normal(size=(4, n))


@pytest.mark.parametrize("phi", ["tanh", "relu", "linear"])
@pytest.mark.parametrize("structure", STRUCTURES)
def test_forward_equals_simulate(structure: str, phi: str) -> None:
    net = _net(structure, phi=phi)
    u, x0 = _data()
    ref = simulate(net, u, x0, dt=0.1)
    module = LowRankModule.from_network(net, dt=0.1, dtype="float64")
    z, x = module(torch.tensor(u), torch.tensor(x0), return_states=True)
    np.testing.assert_allclose(z.detach().numpy(), ref.z[:, 1:], rtol=0, atol=1e-9)
    np.testing.assert_allclose(x.detach().numpy(), ref.x[:, 1:], rtol=0, atol=1e-9)


def test_shared_initial_state_and_default_zero_state() -> None:
    net = _net("mask")
    u, x0 = _data()
    module = LowRankModule.from_network(net, dt=0.05, dtype="float64")
    ref = simulate(net, u, x0[0], dt=0.05)
    np.testing.assert_allclose(module(torch.tensor(u), torch.tensor(x0[0])).detach().numpy(),
                               ref.z[:, 1:], atol=1e-9)
    ref0 = simulate(net, u, dt=0.05)
    np.testing.assert_allclose(module(torch.tensor(u)).detach().numpy(), ref0.z[:, 1:],
                               atol=1e-9)


def test_noise_is_the_euler_maruyama_step() -> None:
    """Replay the module's own draws in a NumPy Euler-Maruyama step with sd = noise sqrt(dt)/tau."""
    net = _net("lowrank", n=10)
    rng = np.random.default_rng(4)
    u = rng.normal(size=(2, 15, 3))
    noise = rng.uniform(0.1, 1.0, size=10)
    dt = 0.1
    module = LowRankModule.from_network(net, dt=dt, dtype="float64")
    gen = torch.Generator().manual_seed(7)
    x = module(torch.tensor(u), noise=torch.tensor(noise), generator=gen, return_states=True)[1]
    replay = torch.Generator().manual_seed(7)
    xi = [torch.randn((2, 10), generator=replay, dtype=torch.float64).numpy() for _ in range(15)]
    J = net.to_dense()
    state = np.zeros((2, 10))
    for k in range(15):
        drift = -state + np.tanh(state) @ J.T + u[:, k] @ net.I.T
        state = state + dt / net.tau * drift + noise * np.sqrt(dt) / net.tau * xi[k]
        np.testing.assert_allclose(x[:, k].detach().numpy(), state, atol=1e-10)


def test_round_trip_through_the_network_is_exact() -> None:
    for structure in STRUCTURES:
        net = _net(structure)
        back = LowRankModule.from_network(net, dt=0.1, dtype="float64").to_network()
        for name in ("M", "N", "I", "W"):
            np.testing.assert_array_equal(getattr(back, name), getattr(net, name))
        np.testing.assert_array_equal(back.to_dense(), net.to_dense())
        assert (back.scale, back.readout_scale, back.tau, back.phi, back.structure) == \
            (net.scale, net.readout_scale, net.tau, net.phi, net.structure)


def test_gradients_match_finite_differences_through_the_mask() -> None:
    net = _net("mask+sprand", n=8)
    u, x0 = _data(n=8)
    module = LowRankModule.from_network(net, dt=0.2, dtype="float64",
                                        trainable=("M", "N", "random"))
    inputs, start = torch.tensor(u[:, :6]), torch.tensor(x0)

    def loss() -> torch.Tensor:
        return (module(inputs, start) ** 2).sum()

    value = loss()
    value.backward()
    rng = np.random.default_rng(3)
    h = 1e-6
    for name in ("M", "N", "random"):
        p = getattr(module, name)
        for _ in range(3):
            idx = tuple(int(rng.integers(s)) for s in p.shape)
            with torch.no_grad():
                p[idx] += h
                up = float(loss())
                p[idx] -= 2 * h
                down = float(loss())
                p[idx] += h
            assert abs((up - down) / (2 * h) - float(p.grad[idx])) < 1e-5 * max(1.0, abs(up))


def test_pickle_and_state_dict_round_trips() -> None:
    net = _net("mask+dense")
    u, x0 = _data()
    module = LowRankModule.from_network(net, dt=0.1, dtype="float64")
    want = module(torch.tensor(u), torch.tensor(x0))
    again = pickle.loads(pickle.dumps(module))
    torch.testing.assert_close(again(torch.tensor(u), torch.tensor(x0)), want, rtol=0, atol=0)
    buf = io.BytesIO()
    torch.save(module.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    rebuilt = LowRankModule.from_state_dict(state)
    torch.testing.assert_close(rebuilt(torch.tensor(u), torch.tensor(x0)), want, rtol=0, atol=0)
    other = LowRankModule.from_network(_net("mask+dense", seed=5), dt=0.3, dtype="float64")
    assert not torch.equal(other.mask_indptr, module.mask_indptr)  # another mask, same nnz
    other.load_state_dict(state)
    assert other.dt == 0.1 and other.tau == net.tau and other.scale == net.scale
    torch.testing.assert_close(other(torch.tensor(u), torch.tensor(x0)), want, rtol=0, atol=0)
    lowrank = LowRankModule.from_network(_net("lowrank"), dt=0.1)
    with pytest.raises(ValueError, match="structure"):
        lowrank.load_state_dict(state, strict=False)


def test_a_users_adam_loop_reduces_the_loss() -> None:
    torch.manual_seed(0)
    net = _net("mask", n=30)
    module = LowRankModule.from_network(net, dt=0.2)
    u = torch.randn(8, 20, 3)
    target = torch.sin(torch.linspace(0, 3, 20))[None, :, None].expand(8, 20, 2)
    opt = torch.optim.Adam(module.parameters(), lr=0.02)
    losses = []
    for _ in range(25):
        opt.zero_grad()
        loss = ((module(u) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]
    trained = module.to_network()
    z = simulate(trained, u.double().numpy(), dt=0.2).z[:, 1:]
    np.testing.assert_allclose(module(u).detach().numpy(), z, atol=1e-4)  # float32 module


def test_bad_arguments() -> None:
    net = _net("lowrank")
    module = LowRankModule.from_network(net, dt=0.1)
    with pytest.raises(ValueError, match="inputs"):
        module(torch.zeros(2, 5, 4))
    with pytest.raises(ValueError, match="x0"):
        module(torch.zeros(2, 5, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="noise"):
        module(torch.zeros(2, 5, 3), noise=-1.0)
    with pytest.raises(ValueError, match="trainable"):
        LowRankModule.from_network(net, dt=0.1, trainable=("J",))
    with pytest.raises(ValueError, match="trainable"):
        LowRankModule.from_network(net, dt=0.1, trainable=("random",))
    with pytest.raises(ValueError, match="dt"):
        LowRankModule.from_network(net, dt=0.0)
    with pytest.raises(ValueError, match="N"):
        LowRankModule(np.ones((4, 1)), np.ones((3, 1)), dt=0.1)


def test_importing_the_package_does_not_import_torch() -> None:
    code = ("import sys, lowrank_rnn, lowrank_rnn.io, lowrank_rnn.simulate, lowrank_rnn.cli; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("structure", ["lowrank", "mask+sprand"])
def test_forward_equals_simulate_on_cuda(structure: str) -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    net = _net(structure)
    u, x0 = _data()
    ref = simulate(net, u, x0, dt=0.1)
    module = LowRankModule.from_network(net, dt=0.1, dtype="float64", device="cuda")
    z = module(torch.tensor(u, device="cuda"), torch.tensor(x0, device="cuda"))
    assert z.device.type == "cuda"
    np.testing.assert_allclose(z.cpu().numpy(), ref.z[:, 1:], rtol=0, atol=1e-9)
