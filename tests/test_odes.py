"""Target vector fields: closed-form solutions and the perturbation behaviour of eqs 13–14."""

from __future__ import annotations

import numpy as np
import pytest

from lowrank_rnn.fit.targets import (
    ODES,
    get_ode,
    inverted_quadratic,
    moving_fixed_point,
    no_fixed_point,
    reference_trajectory,
)


def test_registry_fields_are_vectorised_with_the_right_shape() -> None:
    for ode in ODES.values():
        Z = np.random.default_rng(0).uniform(-1, 1, (7, ode.rank))
        out = ode(Z, np.linspace(0, 1, 7))
        assert out.shape == (7, ode.rank)
        assert np.all(np.isfinite(out))


def test_reference_trajectory_solves_the_inverted_quadratic() -> None:
    t = np.linspace(0, 10, 101)
    zs = reference_trajectory(t)
    # analytic derivative of 6 tanh(t - 2.5) is 6 sech^2 = (36 - z^2) / 6
    np.testing.assert_allclose(6 / np.cosh(t - 2.5) ** 2, inverted_quadratic(zs), atol=1e-12)
    num = get_ode("inverted-quadratic").solve(zs[:1, None], t)
    np.testing.assert_allclose(num[0, :, 0], zs, atol=1e-6)
    assert zs[0] < -5.9 and zs[-1] > 5.9


@pytest.mark.parametrize("name", ["moving-stable", "moving-unstable", "no-fixed-point"])
def test_time_varying_targets_share_the_reference_trajectory(name: str) -> None:
    ode = get_ode(name)
    t = np.linspace(0, 7, 71)
    z = ode.solve(np.array([[reference_trajectory(0.0)]]), t)[0, :, 0]
    # exp(|alpha| t) amplifies the integrator's tolerance for the unstable target
    np.testing.assert_allclose(z, reference_trajectory(t), atol=1e-4)


@pytest.mark.parametrize("alpha", [0.5, -0.5, 1.0])
def test_eq13_perturbation_evolves_as_exp_minus_alpha_t(alpha: float) -> None:
    g = moving_fixed_point(alpha)
    t = np.linspace(0, 3, 31)
    delta = 0.1
    zs = reference_trajectory(t)
    # eq 13 is linear in z: the deviation from z*(t) obeys d(delta)/dt = -alpha delta exactly
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda tt, y: g(y[None, :], np.array([tt]))[0], (0, 3), [zs[0] + delta],
                    t_eval=t, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sol.y[0] - zs, delta * np.exp(-alpha * t), rtol=1e-5, atol=1e-9)


def test_eq14_has_no_fixed_point_and_keeps_a_perturbation() -> None:
    t = np.linspace(0, 6, 50)
    z = np.linspace(-7, 7, 50)[:, None]
    assert np.all(no_fixed_point(z, t) > 0)  # dz/dt > 0 everywhere: no fixed point
    ode = get_ode("no-fixed-point")
    z0 = reference_trajectory(0.0)
    both = ode.solve(np.array([[z0], [z0 + 0.5]]), t)
    np.testing.assert_allclose(both[1, :, 0] - both[0, :, 0], 0.5, atol=1e-6)


def test_limit_cycle_radius_and_period() -> None:
    ode = get_ode("limit-cycle")
    t = np.linspace(0, 30, 3001)
    z = ode.solve(np.array([[0.2, 0.0]]), t)[0]
    late = t > 15
    np.testing.assert_allclose(np.linalg.norm(z[late], axis=1), 1.0, atol=1e-6)
    phase = np.unwrap(np.arctan2(z[late, 1], z[late, 0]))
    assert 2 * np.pi / np.polyfit(t[late], phase, 1)[0] == pytest.approx(ode.period, rel=1e-6)


@pytest.mark.parametrize("name, stable, unstable", [
    ("bistable", [-1.0, 1.0], [0.0]),
    ("asymmetric-bistable", [-1.5, 1.5], [0.5]),
])
def test_cubic_fixed_points(name: str, stable: list, unstable: list) -> None:
    g = get_ode(name)
    eps = 1e-6
    for z in stable + unstable:
        assert abs(g(np.array([[z]]))[0, 0]) < 1e-12
        slope = (g(np.array([[z + eps]])) - g(np.array([[z - eps]])))[0, 0] / (2 * eps)
        assert (slope < 0) == (z in stable)


def test_unknown_name_and_missing_time() -> None:
    with pytest.raises(ValueError, match="ode='nope'"):
        get_ode("nope")
    with pytest.raises(ValueError, match="non-autonomous"):
        get_ode("moving-stable")(np.zeros((2, 1)))
