"""``lowrank-rnn psychometric``: JSON keys, theory values, the curve's shape, bad input."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from lowrank_rnn.cli import app, main
from lowrank_rnn.theory.spectrum import (
    edge_bias,
    edge_sd,
    theory_bulk_radius_profile,
    theory_outlier_sd,
)


def test_json_output_and_curve_shape():
    res = CliRunner().invoke(app, ["psychometric", "--n-neurons", "600", "--c", "100",
                                   "--sigma2", "0.1", "--sigma-mn", "0.06", "--strengths", "4",
                                   "--repeats", "6", "--seed", "1", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"strengths", "p_positive", "outlier", "bulk_radius", "theory_outlier",
                        "theory_bulk_radius", "seconds"}
    np.testing.assert_allclose(out["strengths"], np.linspace(0, 1, 4))
    assert out["theory_outlier"] == pytest.approx(6.0)  # C sigma_mn, eq 13
    assert out["theory_bulk_radius"] == pytest.approx(
        theory_bulk_radius_profile(0.1, 0.06, n_neurons=600, c=100, rescaled=True))
    # measured outlier: eq 13 within 5 finite-N standard deviations
    sd = theory_outlier_sd(0.1, 0.06, n_neurons=600, c=100, rescaled=True)
    assert abs(out["outlier"] - 6.0) < 5 * sd
    # measured bulk: within twice the edge bias plus 4 sd of the profile radius, whose relative
    # sd is 0.5 sqrt(Var(m^2 n^2) / N) / E[m^2 n^2] with rho = sigma_mn / sigma^2 = 0.6:
    # E[m^4 n^4] = sigma^8 (9 + 72 rho^2 + 24 rho^4), E[m^2 n^2] = sigma^4 (1 + 2 rho^2)
    rho = 0.6
    var = (9 + 72 * rho**2 + 24 * rho**4) - (1 + 2 * rho**2) ** 2
    rel_sd = 0.5 * np.sqrt(var / 600) / (1 + 2 * rho**2)
    rtol = 2 * edge_bias(600) + 4 * rel_sd
    assert abs(out["bulk_radius"] / out["theory_bulk_radius"] - 1) < rtol
    p = out["p_positive"]
    assert p[0] == 0.0 and p[-1] == 1.0  # no stimulus: stays low; strongest: always switches


def test_dense_gaussian_variant_reports_g_as_radius():
    res = CliRunner().invoke(app, ["psychometric", "--n-neurons", "400", "--g", "0.5",
                                   "--strengths", "2", "--repeats", "2", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["theory_bulk_radius"] == 0.5
    # the Gaussian part dominates the bulk: circular-law edge tolerance at N = 400
    assert abs(out["bulk_radius"] / 0.5 - 1) < 2 * edge_bias(400) + 4 * edge_sd(400)


def test_backends_give_the_same_decisions():
    """Same trials (the stimulus noise comes from the seed), no private noise: numpy and torch
    differ only by float32 rounding, which can flip a decision only at the margin (allow one
    trial per strength)."""
    pytest.importorskip("torch")
    curves = {}
    for backend in ("numpy", "torch"):
        res = CliRunner().invoke(app, ["psychometric", "--n-neurons", "500", "--c", "60",
                                       "--strengths", "5", "--repeats", "20", "--seed", "2",
                                       "--backend", backend, "--json"])
        assert res.exit_code == 0, res.output
        curves[backend] = np.array(json.loads(res.output)["p_positive"])
    assert np.all(np.abs(curves["numpy"] - curves["torch"]) <= 1 / 20 + 1e-12)
    assert curves["numpy"][0] < 0.5 < curves["numpy"][-1]


@pytest.mark.parametrize(
    "args, name",
    [
        (["--sigma-mn", "0.5"], "--sigma-mn"),
        (["--c", "5000"], "--c"),
        (["--repeats", "0"], "--repeats"),
        (["--g", "-1"], "--g"),
        (["--backend", "jax"], "--backend"),
    ],
)
def test_bad_input_exits_2_naming_parameter(args, name, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["psychometric", "--n-neurons", "300", *args])
    assert exc.value.code == 2
    assert name in capsys.readouterr().err
