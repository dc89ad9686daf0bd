"""Baseline for the task-speed benchmark: the authors' reference loop.

One trial at a time, the connectivity as a dense float64 matrix, Euler steps with a dense
matrix-vector product (as in the public code of Herbert & Ostojic 2022, Fig 6). Used only to
measure speed-ups side by side; the library's :func:`lowrank_rnn.simulate.simulate` is the
implementation to use.
"""

from __future__ import annotations

import numpy as np


def simulate_one_trial(J: np.ndarray, I: np.ndarray, u: np.ndarray, x0: np.ndarray, dt: float,
                       w: np.ndarray) -> np.ndarray:
    """Readout of one trial.

    Parameters
    ----------
    J : ndarray, shape (N, N)
        Dense connectivity.
    I : ndarray, shape (N, d_in)
        Input vectors.
    u : ndarray, shape (time, d_in)
        Input of the trial (noise included).
    x0 : ndarray, shape (N,)
    dt : float
        Euler step (tau = 1).
    w : ndarray, shape (N,)
        Readout weights; the readout is ``tanh(x) . w / N``.

    Returns
    -------
    ndarray, shape (time + 1,)
        Readout at every state, the initial one included.
    """
    n_steps = u.shape[0]
    N = J.shape[0]
    x = np.zeros((N, n_steps + 1))
    x[:, 0] = x0
    for i in range(n_steps):
        x[:, i + 1] = x[:, i] + dt * (-x[:, i] + np.dot(J, np.tanh(x[:, i])) + I @ u[i])
    return np.tanh(x).T @ w / N


def simulate_trials(J: np.ndarray, I: np.ndarray, inputs: np.ndarray, x0: np.ndarray,
                    dt: float, w: np.ndarray) -> np.ndarray:
    """Readouts of a batch of trials, one after the other: shape (batch, time + 1)."""
    return np.stack([simulate_one_trial(J, I, inputs[b], x0, dt, w) for b in range(len(inputs))])
