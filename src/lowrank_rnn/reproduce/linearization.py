"""Linearisation of RNN dynamics in activations versus activities (arXiv 2309.04030).

Figures (numbering ours):

- ``Relations``: on random networks (tanh, and ReLU with silent units), ``A_x = -1 + J D`` and
  ``A_r = -1 + D J`` have the same spectrum, their eigenvectors obey ``v_r ∝ D v_x``,
  ``l_x ∝ D l_r`` (and ``l_r ∝ D^{-1} l_x`` when D is invertible), each Jacobian matches finite
  differences of its vector field.
- ``Context``: two tonic context inputs change D. The non-trivial mode of a rank-one network has
  the same activation eigenvector ``m`` in both contexts, but its activity eigenvector ``D m``
  moves to different units: the context effect appears in the activity linearisation and not
  in the activation one (and vice versa for the left eigenvectors).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.reproduce._core import (
    Checks,
    FigureData,
    FigureSpec,
    Paper,
    Settings,
    finish_figure,
    sweep_options,
)
from lowrank_rnn.sweep import run_sweep
from lowrank_rnn.theory.fixedpoints import network_fixed_point
from lowrank_rnn.theory.linearize import (
    activation_field,
    activity_field,
    context_example,
    jacobians,
    linearize,
    relation_residuals,
)
from lowrank_rnn.transfer import get_phi

KEY = "linearization"
CITATION = (
    "Linearization of the dynamics of recurrent neural networks in activations versus "
    "activities: relations between the two linearizations and their left and right "
    "eigenvectors, and context-dependent effects. Technical note, arXiv:2309.04030 (2023)."
)


def random_fixed_point(
    n: int, g: float, phi: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random network ``J ~ N(0, g^2/N)`` with a random bias and one of its fixed points.

    Returns ``(J, b, x_star)``; ``x_star`` from Newton started at ``b``.
    """
    J = rng.normal(size=(n, n)) * (g / np.sqrt(n))
    b = rng.normal(size=n)
    net = LowRankRNN(M=np.zeros((n, 1)), N=np.zeros((n, 1)), I=b[:, None], random=J, phi=phi)
    fp = network_fixed_point(net, b.copy(), np.ones(1), tol=1e-12)
    if not fp.converged:
        raise RuntimeError("random_fixed_point: Newton did not converge")
    return J, b, fp.x


def _fd_jacobian(f, x: np.ndarray, h: float) -> np.ndarray:
    n = x.size
    out = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        out[:, j] = (f(x + e) - f(x - e)) / (2 * h)
    return out


def relations_point(n: int, g: float, phi: str, seed: int = 0) -> dict[str, float]:
    """Residuals of the linearisation relations on one random network (a sweep point).

    The network and its fixed point come from :func:`random_fixed_point` with the stream
    ``seed``; the residuals are those of
    :func:`lowrank_rnn.theory.linearize.relation_residuals`, plus
    ``fd``: the largest deviation of either Jacobian from central finite differences of its
    vector field.

    Returns
    -------
    dict of float: ``spectrum, right, left, left_inverse, n_pairs, n_silent, fd``.
    """
    J, b, x = random_fixed_point(int(n), g, phi, np.random.default_rng(seed))
    res = {k: float(v) for k, v in relation_residuals(J, x, phi=phi).items()}
    A_x, A_r, _ = jacobians(J, x, phi=phi)
    h = 1e-5
    if phi == "relu":  # keep the finite differences away from the kink
        h = min(h, 0.5 * float(np.min(np.abs(x))))
    r = get_phi(phi)[0](x)
    Fx = _fd_jacobian(lambda y: activation_field(J, y, b, phi=phi), x, h)
    Fr = _fd_jacobian(lambda y: activity_field(J, y, b, phi=phi), r, h)
    res["fd"] = max(float(np.max(np.abs(Fx - A_x))), float(np.max(np.abs(Fr - A_r))))
    return res


def _worst(values: np.ndarray) -> float:
    """Largest value over instances; a non-finite one (e.g. NaN where D^-1 does not exist)
    wins, so that it is reported rather than hidden."""
    bad = values[~np.isfinite(values)]
    return float(bad[0]) if bad.size else float(np.max(values))


def compute_relations(settings: Settings) -> FigureData:
    """Equal spectra and eigenvector relations on random networks; Jacobians vs FD.

    The random networks (nonlinearity × instances) are the independent points of a sweep
    (serial and in-process in quick mode, on Dask in full mode).
    """
    ch = Checks(KEY, "Relations")
    n = 60 if settings.quick else 200
    seeds = 2 if settings.quick else 5
    g = 0.9
    phis = ["tanh", "relu"]
    seed_list = [settings.seed * 1000 + s for s in range(seeds)]
    ds = run_sweep(relations_point, {"phi": phis}, seed_list, fixed={"n": n, "g": g},
                   **sweep_options(settings, "linearization_relations"))
    worst = {phi: {k: _worst(np.asarray(ds[k].sel(phi=phi).values))
                   for k in ds.data_vars if k != "fd"} for phi in phis}
    fd_err = {phi: _worst(np.asarray(ds["fd"].sel(phi=phi).values)) for phi in phis}
    J, _, x = random_fixed_point(n, g, "tanh", np.random.default_rng(seed_list[0]))
    lin = linearize(J, x, phi="tanh")
    example = {"ev_x": lin.eigenvalues, "ev_r": np.linalg.eigvals(jacobians(J, x, phi="tanh")[1])}
    for phi in ("tanh", "relu"):
        w = worst[phi]
        ch.less(f"{phi}: spectra of A_x and A_r, max distance / radius", w["spectrum"], 1e-10)
        ch.less(f"{phi}: right eigenvectors v_r vs D v_x (sine of angle)", w["right"], 1e-10)
        ch.less(f"{phi}: left eigenvectors l_x vs D l_r (sine of angle)", w["left"], 1e-10)
        ch.less(f"{phi}: Jacobians vs central finite differences (max abs)", fd_err[phi], 1e-6)
    for phi in phis:  # the eigenvector rows above test nothing on an instance with no pair
        ch.greater(f"{phi}: eigenvalue pairs compared (fewest over instances)",
                   float(np.min(ds["n_pairs"].sel(phi=phi).values)), 0)
    ch.less("tanh: left eigenvectors l_r vs D^-1 l_x (sine of angle)",
            worst["tanh"]["left_inverse"], 1e-10)
    ch.greater("relu: silent units (zeros in D) present", worst["relu"]["n_silent"], 0)
    return FigureData(data={"example": example, "worst": worst, "fd": fd_err}, checks=ch,
                      params={"n_neurons": n, "seeds": seeds, "g": g})


def plot_relations(fd: FigureData, path: Path) -> None:
    """Spectra of both linearisations of one random network."""
    import matplotlib.pyplot as plt

    ex = fd.data["example"]
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    ax.plot(ex["ev_x"].real, ex["ev_x"].imag, "o", mfc="none", ms=7, label="eig A_x = -1 + J D")
    ax.plot(ex["ev_r"].real, ex["ev_r"].imag, ".", color="C3", ms=4, label="eig A_r = -1 + D J")
    ax.set_xlabel("Re λ")
    ax.set_ylabel("Im λ")
    ax.legend(fontsize=7)
    finish_figure(fig, path)


def compute_context(settings: Settings) -> FigureData:
    """Context inputs change D: the mode moves in activity space, not in activation space."""
    ch = Checks(KEY, "Context")
    n = 100 if settings.quick else 600
    overlap = 0.6
    out = {}
    for phi in ("tanh", "relu"):
        ex = context_example(n, overlap=overlap, phi=phi, rng=settings.seed + 1)
        out[phi] = ex
        ch.close(f"{phi}: |cos| of activation right eigenvectors across contexts",
                 ex.cos["v_x"], 1.0, 1e-10)
        ch.close(f"{phi}: |cos| of activity left eigenvectors across contexts",
                 ex.cos["l_r"], 1.0, 1e-10)
        if phi == "tanh":
            # gains shift by O(N^-1/2) through kappa*: 10% relative tolerance
            ch.rel_close("tanh: |cos| of activity right eigenvectors vs 2ab/(a^2+b^2)",
                         ex.cos["v_r"], ex.cos_theory, 0.10)
            ch.rel_close("tanh: |cos| of activation left eigenvectors vs 2ab/(a^2+b^2)",
                         ex.cos["l_x"], ex.cos_theory, 0.10)
        else:
            ch.close("relu: |cos| of activity right eigenvectors (disjoint active halves)",
                     ex.cos["v_r"], 0.0, 1e-12)
            ch.close("relu: relations with zeros in D (v_r vs D v_x, l_x vs D l_r)",
                     max(ex.relation["right"], ex.relation["left"]), 0.0, 1e-10)
            ch.close("relu: silent units in context A", ex.relation["n_silent"], n // 2, 0)
        ratio_x = ex.readout[0, 0] / ex.readout[0, 1]
        ratio_r = ex.readout[1, 0] / max(ex.readout[1, 1], 1e-300)
        ch.close(f"{phi}: readout of the mode, activation linearisation, context A/B",
                 ratio_x, 1.0, 1e-10)
        ch.greater(f"{phi}: readout of the mode, activity linearisation, context A/B",
                   min(ratio_r, 1e12), 10.0,
                   note="shown capped at 10^12: the context-B readout is zero to machine "
                   "precision" if ratio_r >= 1e12 else None)
        # eigenvalue -1 + (1/N) sum n d m ~ -1 + overlap (a + b)/2, finite-N sd
        dphi = get_phi(phi)[1]
        a_t = float(dphi(np.array(0.0 if phi == "tanh" else 1.0)))
        b_t = float(dphi(np.array(2.5 if phi == "tanh" else -1.5)))
        lam = -1.0 + overlap * (a_t + b_t) / 2
        sd = np.sqrt((1 + overlap**2) * (a_t**2 + b_t**2) / 2 / n)
        ch.close(f"{phi}: mode eigenvalue, context A, vs -1 + sigma_mn (a+b)/2",
                 ex.eigenvalue[0], lam, 4 * sd)
        ch.close(f"{phi}: mode eigenvalue, context B, vs -1 + sigma_mn (a+b)/2",
                 ex.eigenvalue[1], lam, 4 * sd)
    return FigureData(
        data={phi: {"v_x": ex.v_x, "v_r": ex.v_r, "l_x": ex.l_x, "l_r": ex.l_r, "cos": ex.cos}
              for phi, ex in out.items()},
        checks=ch, params={"n_neurons": n, "overlap": overlap, "context_strength": 2.5},
    )


def plot_context(fd: FigureData, path: Path) -> None:
    """Right eigenvectors in activation and activity coordinates, both contexts (tanh)."""
    import matplotlib.pyplot as plt

    d = fd.data["tanh"]
    fig, ax = plt.subplots(2, 2, figsize=(9, 5), sharex=True)
    names = (("v_x", "activation right eigvec (= m)"), ("v_r", "activity right eigvec (= D m)"),
             ("l_x", "activation left eigvec (= D n)"), ("l_r", "activity left eigvec (= n)"))
    for axi, (key, title) in zip(ax.ravel(), names, strict=True):
        for c, lab in enumerate(("context A", "context B")):
            sign = np.sign(d[key][c] @ d[key][0]) or 1.0
            axi.plot(sign * d[key][c], ".", ms=2, color=f"C{c}", label=lab)
        axi.set_title(f"{title}: |cos| A,B = {d['cos'][key]:.3f}", fontsize=8)
    ax[0, 0].legend(fontsize=7)
    for axi in ax[1]:
        axi.set_xlabel("unit")
    finish_figure(fig, path)


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("Relations", "A_x and A_r: equal spectra, eigenvector relations",
               compute_relations, plot_relations,
               quick_note=(
               "N = 60 with 2 instances instead of N = 200 with 5.")),
    FigureSpec("Context", "Context-dependent effects seen in the activity linearisation",
               compute_context, plot_context,
               quick_note=(
               "N = 100 instead of 600.")),
)

PAPER = Paper(key=KEY, citation=CITATION, figures=FIGURES)
