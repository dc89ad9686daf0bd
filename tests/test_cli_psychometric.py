"""``lowrank-rnn psychometric``: JSON keys, theory values, the curve's shape, bad input."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from lowrank_rnn.cli import app, main
from lowrank_rnn.spectrum import theory_bulk_radius


def test_json_output_and_curve_shape():
    res = CliRunner().invoke(app, ["psychometric", "--n-neurons", "600", "--c", "100",
                                   "--sigma2", "0.1", "--sigma-mn", "0.06", "--strengths", "4",
                                   "--repeats", "6", "--seed", "1", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"strengths", "p_positive", "outlier", "bulk_radius", "seconds"}
    np.testing.assert_allclose(out["strengths"], np.linspace(0, 1, 4))
    # outlier C sigma_mn (eq 13) up to the finite-N sampling of m.n/N (sd ~ 0.1*sqrt(2/600)*C)
    assert abs(out["outlier"] - 6.0) < 5 * 100 * 0.1 * np.sqrt(2 / 600)
    assert np.isclose(out["bulk_radius"],
                      theory_bulk_radius(0.1, n_neurons=600, c=100, rescaled=True))
    p = out["p_positive"]
    assert p[0] == 0.0 and p[-1] == 1.0  # no stimulus: stays low; strongest: always switches


def test_dense_gaussian_variant_reports_g_as_radius():
    res = CliRunner().invoke(app, ["psychometric", "--n-neurons", "400", "--g", "0.5",
                                   "--strengths", "2", "--repeats", "2", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["bulk_radius"] == 0.5


@pytest.mark.parametrize(
    "args, name",
    [
        (["--sigma-mn", "0.5"], "sigma_mn"),
        (["--c", "5000"], "c"),
        (["--repeats", "0"], "repeats"),
        (["--g", "-1"], "g"),
    ],
)
def test_bad_input_exits_2_naming_parameter(args, name, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["psychometric", "--n-neurons", "300", *args])
    assert exc.value.code == 2
    assert name in capsys.readouterr().err
