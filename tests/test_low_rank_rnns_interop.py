"""Models of the Ostojic lab's ``low_rank_rnns`` package in and out.

The reference is a NumPy transcription of that package's documented update for its low-rank
model, written from its conventions (recurrence and readout divided by N, alpha = dt / tau,
input weights (d_in, N) scaled per channel by si, readout scaled by so, initial state h0, one
noise draw of standard deviation noise_std per neuron and step)::

    h_{k+1} = h_k + noise_std xi_k + alpha (-h_k + tanh(h_k) n m^T / N + u_k (si * wi))
    out_k   = tanh(h_{k+1}) (wo * so) / N
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lowrank_rnn import LowRankRNN  # noqa: E402
from lowrank_rnn.models.low_rank_rnns import (  # noqa: E402
    LowRankRNNsModel,
    from_low_rank_rnns,
    to_low_rank_rnns,
)
from lowrank_rnn.simulate import simulate  # noqa: E402
from lowrank_rnn.torch import LowRankModule  # noqa: E402


def _reference(sd: dict, u: np.ndarray, alpha: float, noise_std: float = 0.0,
               xi: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    wi, si, m, n = (np.asarray(sd[k], dtype=float) for k in ("wi", "si", "m", "n"))
    wo, so, h0 = (np.asarray(sd[k], dtype=float) for k in ("wo", "so", "h0"))
    size = m.shape[0]
    b, T, _ = u.shape
    h = np.broadcast_to(h0, (b, size)).copy()
    r = np.tanh(h)
    outs, hs = [], []
    for k in range(T):
        rec = (r @ n) @ m.T / size
        kick = 0.0 if xi is None else noise_std * xi[:, k]
        h = h + kick + alpha * (-h + rec + u[:, k] @ (wi * si[:, None]))
        r = np.tanh(h)
        outs.append(np.tanh(h) @ (wo * so) / size)
        hs.append(h)
    return np.stack(outs, 1), np.stack(hs, 1)


def _state_dict(size: int = 30, rank: int = 2, d_in: int = 3, d_out: int = 2, seed: int = 0,
                torch_tensors: bool = True) -> dict:
    rng = np.random.default_rng(seed)
    sd = {
        "wi": rng.normal(size=(d_in, size)), "si": rng.uniform(0.5, 2.0, d_in),
        "m": rng.normal(size=(size, rank)), "n": rng.normal(size=(size, rank)) * 2,
        "wo": rng.normal(size=(size, d_out)) * 4, "so": rng.uniform(0.5, 2.0, d_out),
        "h0": rng.normal(size=size) * 0.5, "b": np.zeros(size),
    }
    if torch_tensors:
        sd = {k: torch.tensor(v, dtype=torch.float32) for k, v in sd.items()}
    return sd


@pytest.mark.parametrize("tensors", [True, False])
@pytest.mark.parametrize("tau", [1.0, 20.0])
def test_imported_model_reproduces_their_update(tensors: bool, tau: float) -> None:
    sd = _state_dict(torch_tensors=tensors)
    u = np.random.default_rng(1).normal(size=(4, 40, 3))
    alpha = 0.2
    model = from_low_rank_rnns(sd, alpha=alpha, tau=tau)
    assert isinstance(model, LowRankRNNsModel) and isinstance(model.network, LowRankRNN)
    assert model.dt == pytest.approx(alpha * tau)
    want, h = _reference(sd, u, alpha)
    np.testing.assert_allclose(model.predict(u), want, rtol=0, atol=1e-6)
    x = simulate(model.network, u, model.x0, dt=model.dt).x[:, 1:]
    np.testing.assert_allclose(x, h, rtol=0, atol=1e-6)


def test_noise_per_step_maps_to_their_noise_std() -> None:
    """Replay the module's draws in the reference: their per-step kick noise_std xi_k equals
    the library's (noise / tau) sqrt(dt) xi_k with noise = noise_std tau / sqrt(dt)."""
    sd = _state_dict(size=12, torch_tensors=False)
    u = np.random.default_rng(2).normal(size=(2, 25, 3))
    alpha, tau, noise_std = 0.1, 5.0, 0.3
    model = from_low_rank_rnns(sd, alpha=alpha, tau=tau, noise_std=noise_std)
    module = LowRankModule.from_network(model.network, dt=model.dt, dtype="float64")
    gen = torch.Generator().manual_seed(3)
    z = module(torch.tensor(u), torch.tensor(model.x0), noise=model.noise, generator=gen)
    replay = torch.Generator().manual_seed(3)
    xi = np.stack([torch.randn((2, 12), generator=replay, dtype=torch.float64).numpy()
                   for _ in range(25)], 1)
    want, _ = _reference(sd, u, alpha, noise_std, xi)
    np.testing.assert_allclose(z.detach().numpy(), want, rtol=0, atol=1e-6)


def test_pt_file_is_read_with_weights_only(tmp_path: Path) -> None:
    sd = _state_dict()
    path = tmp_path / "model.pt"
    torch.save(sd, path)
    u = np.random.default_rng(4).normal(size=(2, 10, 3))
    model = from_low_rank_rnns(path, alpha=0.2)
    np.testing.assert_allclose(model.predict(u), _reference(sd, u, 0.2)[0], atol=1e-6)
    npz = tmp_path / "model.npz"
    np.savez(npz, **{k: v.numpy() for k, v in sd.items()})
    np.testing.assert_allclose(from_low_rank_rnns(npz, alpha=0.2).predict(u),
                               _reference(sd, u, 0.2)[0], atol=1e-6)


class _Trap:
    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self):
        return (Path.touch, (Path(self.target),))


def test_a_pt_file_that_would_run_code_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"m": torch.zeros(3, 1), "trap": _Trap(str(target))}, path)
    with pytest.raises(ValueError, match="evil.pt.*weights_only=True"):
        from_low_rank_rnns(path, alpha=0.2)
    assert not target.exists()


def test_export_is_the_inverse(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    size = 25
    net = LowRankRNN(M=rng.normal(size=(size, 2)), N=rng.normal(size=(size, 2)),
                     I=rng.normal(size=(size, 2)), W=rng.normal(size=(size, 1)), scale=0.7,
                     readout_scale=0.3, tau=2.0)
    x0 = rng.normal(size=size)
    u = rng.normal(size=(3, 30, 2))
    out = to_low_rank_rnns(net, dt=0.4, x0=x0, noise=0.5, path=tmp_path / "exp.pt",
                           dtype="float64")
    assert set(out["state_dict"]) == {"wi", "si", "m", "n", "wo", "so", "h0", "b"}
    assert out["alpha"] == pytest.approx(0.2) and out["hidden_size"] == size
    assert out["noise_std"] == pytest.approx(0.5 * np.sqrt(0.4) / 2.0)
    want = simulate(net, u, x0, dt=0.4).z[:, 1:]
    got, _ = _reference({k: v.numpy() for k, v in out["state_dict"].items()}, u, out["alpha"])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    back = from_low_rank_rnns(tmp_path / "exp.pt", alpha=out["alpha"], tau=2.0)
    np.testing.assert_allclose(back.predict(u), want, rtol=0, atol=1e-9)
    noisy = from_low_rank_rnns(out["state_dict"], alpha=out["alpha"], tau=2.0,
                               noise_std=out["noise_std"])
    assert noisy.noise == pytest.approx(0.5)


def test_bad_state_dicts() -> None:
    sd = _state_dict(torch_tensors=False)
    with pytest.raises(ValueError, match="bias"):
        from_low_rank_rnns({**sd, "b": np.ones(30)}, alpha=0.2)
    with pytest.raises(ValueError, match="missing keys"):
        from_low_rank_rnns({k: v for k, v in sd.items() if k != "m"}, alpha=0.2)
    with pytest.raises(ValueError, match="wi"):
        from_low_rank_rnns({**sd, "wi": np.ones((3, 7))}, alpha=0.2)
    with pytest.raises(ValueError, match="alpha"):
        from_low_rank_rnns(sd, alpha=1.5)
    with pytest.raises(ValueError, match="no such file"):
        from_low_rank_rnns("missing.pt", alpha=0.2)
    net = from_low_rank_rnns(sd, alpha=0.2).network
    with pytest.raises(ValueError, match="structure"):
        to_low_rank_rnns(net.replace(random=np.eye(30)), dt=0.1)
    with pytest.raises(ValueError, match="dt"):
        to_low_rank_rnns(net, dt=2.0)
