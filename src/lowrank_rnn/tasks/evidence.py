"""Evidence accumulation as a Go/Nogo task (Herbert & Ostojic 2022, Fig 6; Mastrogiuseppe &
Ostojic 2018).

A stimulus of mean strength ``c_bar`` arrives along an input pattern ``I`` with white-noise
fluctuations, ``c(t) I + eta(t)``; the network must produce a positive readout at the end of the
stimulus when ``c_bar`` exceeds a threshold (Go) and a negative one otherwise (Nogo).

The connectivity solution of the paper (Fig 6A): draw three orthogonal standard normal vectors
``w, I, y``; set ``m = sqrt(sigma^2 - sigma_mn) w + sqrt(sigma_mn) y`` and
``n = sqrt(sigma^2 - sigma_mn) I + sqrt(sigma_mn) y`` (eq 17–18 with x = w, y = I, z = y), so that
n is the input pattern plus a shared component and m is the readout pattern plus the same shared
component ("I = n, w = m" up to that common part). With ``sigma_mn`` large enough the network is
bistable; it starts in the lower state (``x0 = -m``) and jumps to the upper one when it has
integrated enough evidence. The authors' simulations also feed the stimulus along an independent
vector ``h`` (input of the same strength orthogonal to n) and put the noise along ``I`` only, with
amplitude 0.4 per unit sqrt(time); those are the defaults here.

Everything is expressed as a :class:`TrialBatch` whose inputs are ``u(t)`` for the network's two
input channels ``[I, h]``: channel 0 is ``c_bar + noise_sd xi_k / sqrt(dt)`` (so that the Euler
step adds ``dt c_bar + noise_sd sqrt(dt) xi_k`` along I), channel 1 is ``c_bar``.
"""

from __future__ import annotations

import numpy as np

from lowrank_rnn._validate import RngLike, as_rng, check_array, check_int, check_real
from lowrank_rnn.connectivity import add_random, fixed_degree_mask
from lowrank_rnn.network import LowRankRNN
from lowrank_rnn.tasks._base import TrialBatch

__all__ = [
    "PAPER",
    "EvidenceNetwork",
    "evidence_network",
    "evidence_trials",
    "go_threshold",
]

PAPER = "Herbert & Ostojic 2022 (PLoS Comput Biol 18(8): e1010426), Fig 6"

#: The authors' values (Fig 6): duration 40 tau, dt 0.2 tau, onset at 1/5 of the trial, noise 0.4.
DEFAULT_T = 40.0
DEFAULT_DT = 0.2
DEFAULT_NOISE = 0.4
DEFAULT_ONSET = 0.2


class EvidenceNetwork:
    """A network built for the task plus the vectors that define it.

    Attributes
    ----------
    net : LowRankRNN
        Connectivity, ``I`` of shape (N, 2) (columns I and h), ``W`` = w (N, 1),
        ``readout_scale = 1/N``.
    m, n, w, inp, h : ndarray, shape (N,)
        Connectivity vectors, readout pattern, input pattern and the orthogonal input.
    x0 : ndarray, shape (N,)
        Initial state ``-m`` (the lower stable state's side).
    outlier : float
        Outlier of the rank-one mean connectivity for the drawn vectors, ``C m.n / N``
        (``m.n / N`` when ``c`` is None): the exact nonzero eigenvalue of ``(C/N) m n^T`` (the
        dense equivalent, before any added Gaussian part) and, to first order, the outlier of
        the sparse matrix. It is not the population value ``C sigma_mn`` of eq 13 but a sample
        of it: with the orthogonalised vectors ``m.n = sigma_mn |y|^2``, ``|y|^2 ~ chi^2(N-2)``,
        so its mean is ``C sigma_mn (N-2)/N`` and its sd ``C sigma_mn sqrt(2(N-2))/N``.
    """

    def __init__(self, net: LowRankRNN, m: np.ndarray, n: np.ndarray, w: np.ndarray,
                 inp: np.ndarray, h: np.ndarray, outlier: float) -> None:
        self.net, self.m, self.n, self.w, self.inp, self.h = net, m, n, w, inp, h
        self.x0 = -m
        self.outlier = float(outlier)


def _orthogonal_normals(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` mutually orthogonal vectors with i.i.d. standard normal entries before
    Gram–Schmidt (as in the authors' code; each keeps variance close to 1)."""
    v = rng.standard_normal((n, k))
    out = np.empty_like(v)
    for j in range(k):
        u = v[:, j].copy()
        for i in range(j):
            u -= (out[:, i] @ u) / (out[:, i] @ out[:, i]) * out[:, i]
        out[:, j] = u
    return out


def evidence_network(
    n_neurons: int,
    sigma2: float,
    sigma_mn: float,
    *,
    c: int | None = 100,
    dense: bool = False,
    g: float = 0.0,
    rng: RngLike = None,
) -> EvidenceNetwork:
    """The rank-one Go/Nogo network of Herbert & Ostojic Fig 6A.

    Parameters
    ----------
    n_neurons : int
        N (> 3).
    sigma2, sigma_mn : float
        Variance of m and n and their covariance, ``0 <= sigma_mn <= sigma2``.
    c : int, optional
        Non-zeros per column of the sparse rescaled matrix ``X ⊙ m n^T`` (eq 12), outlier
        ``C sigma_mn`` (eq 13). ``None``: the dense ``m n^T / N`` (outlier ``sigma_mn``).
    dense : bool
        With ``c`` given, use the dense matrix with the same mean, ``(C/N) m n^T`` (same outlier,
        no bulk): the "low rank + Gaussian" comparison network of Fig 6E/F.
    g : float
        Strength of an added dense Gaussian part ``g chi``, ``chi_ij ~ N(0, 1/N)`` (eq 2).
    rng : Generator, int or None

    Returns
    -------
    EvidenceNetwork
    """
    nn_ = check_int("n_neurons", n_neurons, minimum=4)
    sigma2 = check_real("sigma2", sigma2, minimum=0.0)
    sigma_mn = check_real("sigma_mn", sigma_mn, minimum=0.0)
    if sigma_mn > sigma2:
        raise ValueError(
            f"sigma_mn={sigma_mn}: eq 17–18 need 0 <= sigma_mn <= sigma2 = {sigma2}"
        )
    if c is not None:
        c = check_int("c", c, minimum=1, maximum=nn_)
    g = check_real("g", g, minimum=0.0)
    if dense and c is None:
        raise ValueError("dense=True: needs c (the dense matrix has the mean (C/N) m n^T)")
    rng = as_rng(rng)
    w, inp, y = _orthogonal_normals(nn_, 3, rng).T
    h = rng.standard_normal(nn_)
    a, b = np.sqrt(sigma2 - sigma_mn), np.sqrt(sigma_mn)
    m = a * w + b * y
    n = a * inp + b * y
    I = np.stack([inp, h], axis=1)
    if c is None:
        net = LowRankRNN(M=m, N=n, I=I, W=w, scale=1.0 / nn_, readout_scale=1.0 / nn_)
        outlier = float(m @ n) / nn_
    elif dense:
        net = LowRankRNN(M=m, N=n, I=I, W=w, scale=c / nn_, readout_scale=1.0 / nn_)
        outlier = c * float(m @ n) / nn_
    else:
        mask = fixed_degree_mask(nn_, c, rng=rng)
        net = LowRankRNN(M=m, N=n, I=I, W=w, mask=mask, scale=1.0, readout_scale=1.0 / nn_)
        outlier = c * float(m @ n) / nn_
    if g > 0:
        if net.mask is not None:
            raise ValueError("g > 0 with a sparse mask: use dense=True for low rank + Gaussian")
        net = add_random(net, g, rng=rng)
    return EvidenceNetwork(net, m, n, w, inp, h, outlier)


def go_threshold(strengths: np.ndarray) -> float:
    """The Go/Nogo threshold used for targets: the middle of the strength range."""
    s = np.asarray(strengths, dtype=float)
    return float(0.5 * (s.min() + s.max()))


def evidence_trials(
    strengths: np.ndarray,
    repeats: int = 1,
    *,
    t_total: float = DEFAULT_T,
    dt: float = DEFAULT_DT,
    onset: float = DEFAULT_ONSET,
    noise_sd: float = DEFAULT_NOISE,
    window: float = 1.0,
    threshold: float | None = None,
    rng: RngLike = None,
) -> TrialBatch:
    """Trials of the evidence-accumulation Go/Nogo task (Herbert & Ostojic Fig 6B–F).

    Parameters
    ----------
    strengths : array_like, shape (K,)
        Mean stimulus strengths ``c_bar`` (finite).
    repeats : int
        Trials per strength; the batch is ordered strength-major (``K * repeats`` trials).
    t_total : float
        Trial duration (units of tau); ``n_steps = round(t_total / dt)``.
    dt : float
        Time step.
    onset : float in [0, 1)
        Fraction of the trial before the stimulus (authors: 1/5).
    noise_sd : float
        Amplitude of the white-noise fluctuations along I (per unit sqrt(time)).
    window : float
        Length (units of tau) of the final decision window where the mask is on.
    threshold : float, optional
        Go if ``c_bar > threshold``; default :func:`go_threshold` of the strengths.
    rng : Generator, int or None
        Noise stream; the same seed gives the same trials.

    Returns
    -------
    TrialBatch
        ``inputs`` (batch, time, 2): channel 0 drives I, channel 1 drives h. ``targets``
        (batch, time, 1): +1 (Go) or -1 (Nogo) in the window, 0 elsewhere; ``mask`` true in the
        window. ``info``: ``strength`` (batch,), ``go`` (batch,), ``onset_step``,
        ``window_steps``, ``threshold``, ``noise_sd``.
    """
    s = check_array("strengths", np.asarray(strengths, dtype=float), ndim=1)
    if s.size == 0:
        raise ValueError("strengths: needs at least one strength")
    repeats = check_int("repeats", repeats, minimum=1)
    dt = check_real("dt", dt, minimum=0.0, min_inclusive=False)
    t_total = check_real("t_total", t_total, minimum=0.0, min_inclusive=False)
    onset = check_real("onset", onset, minimum=0.0, maximum=1.0, max_inclusive=False)
    noise_sd = check_real("noise_sd", noise_sd, minimum=0.0)
    window = check_real("window", window, minimum=0.0, min_inclusive=False)
    n_steps = int(round(t_total / dt))
    if n_steps < 2:
        raise ValueError(f"t_total={t_total}, dt={dt}: need at least 2 steps")
    win = max(1, min(n_steps, int(round(window / dt))))
    thr = go_threshold(s) if threshold is None else check_real("threshold", threshold)
    rng = as_rng(rng)
    c_bar = np.repeat(s, repeats)
    b = c_bar.size
    start = int(n_steps * onset)
    inputs = np.zeros((b, n_steps, 2))
    inputs[:, start:, 0] = c_bar[:, None]
    inputs[:, start:, 1] = c_bar[:, None]
    if noise_sd > 0:
        inputs[:, start:, 0] += (noise_sd / np.sqrt(dt)) * rng.standard_normal((b, n_steps - start))
    go = c_bar > thr
    targets = np.zeros((b, n_steps, 1))
    mask = np.zeros((b, n_steps, 1), dtype=bool)
    targets[:, n_steps - win :, 0] = np.where(go, 1.0, -1.0)[:, None]
    mask[:, n_steps - win :, 0] = True
    info = {
        "strength": c_bar,
        "go": go,
        "onset_step": start,
        "window_steps": win,
        "threshold": thr,
        "noise_sd": noise_sd,
    }
    periods = {"fixation": np.array([0, start]), "stimulus": np.array([start, n_steps]),
               "decision": np.array([n_steps - win, n_steps])}
    return TrialBatch(inputs=inputs, targets=targets, mask=mask, dt=dt, paper=PAPER, info=info,
                      periods=periods)
