"""Transfer functions phi and their derivatives.

The library's networks use ``phi = tanh`` (Herbert & Ostojic 2022, eq 1), ReLU ("A new look at
low-rank RNNs", Section 4) or the identity (linear networks, Valente et al. 2022).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lowrank_rnn._validate import check_choice

__all__ = ["PHI_NAMES", "phi", "phi_prime", "get_phi"]

PHI_NAMES = ("tanh", "relu", "linear")


def _tanh_prime(x: np.ndarray) -> np.ndarray:
    t = np.tanh(x)
    return 1.0 - t * t


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _relu_prime(x: np.ndarray) -> np.ndarray:
    return (np.asarray(x) > 0).astype(np.result_type(x, np.float32))


def _identity(x: np.ndarray) -> np.ndarray:
    return np.asarray(x)


def _one(x: np.ndarray) -> np.ndarray:
    return np.ones_like(np.asarray(x, dtype=np.result_type(x, np.float32)))


_TABLE: dict[str, tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]] = {
    "tanh": (np.tanh, _tanh_prime),
    "relu": (_relu, _relu_prime),
    "linear": (_identity, _one),
}


Fn = Callable[[np.ndarray], np.ndarray]


def get_phi(name: str) -> tuple[Fn, Fn]:
    """Return ``(phi, phi_prime)`` for a transfer-function name in :data:`PHI_NAMES`."""
    check_choice("phi", name, PHI_NAMES)
    return _TABLE[name]


def phi(name: str, x: np.ndarray) -> np.ndarray:
    """Apply the transfer function ``name`` elementwise to ``x`` (any shape)."""
    return get_phi(name)[0](x)


def phi_prime(name: str, x: np.ndarray) -> np.ndarray:
    """Derivative of the transfer function ``name`` at ``x`` (ReLU: 0 at x <= 0, 1 above)."""
    return get_phi(name)[1](x)
