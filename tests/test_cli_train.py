"""``lowrank-rnn train``: a trained and saved network reloads and scores as reported; errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")

from lowrank_rnn.cli import app, main  # noqa: E402

runner = CliRunner()


def test_train_random_dots_json_save_and_reload(tmp_path) -> None:
    path = tmp_path / "rd.pt"
    res = runner.invoke(app, ["train", "random_dots", "--rank", "1", "--neurons", "48",
                              "--epochs", "8", "--seed", "3", "--save", str(path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert {"test", "train_loss", "val_loss", "seconds", "best_epoch", "saved"} <= set(out)
    assert out["train_loss"]["n"] == 8 and out["train_loss"]["last"] < out["train_loss"]["first"]
    # a rank-one network solves the random-dots task (Dubreuil et al. 2022)
    assert out["test"]["accuracy"] > 0.8
    from lowrank_rnn.fit.bptt import BPTTTrainer
    from lowrank_rnn.tasks import decision_accuracy, random_dots_trials, task_streams

    tr = BPTTTrainer.load(path)
    test = random_dots_trials(256, rng=task_streams(3)["test"])
    assert decision_accuracy(tr.predict(test.inputs), test) == pytest.approx(
        out["test"]["accuracy"])
    assert tr.rank == 1 and tr.n_neurons == 48


def test_train_table_output() -> None:
    res = runner.invoke(app, ["train", "decision", "--rank", "1", "--neurons", "16",
                              "--epochs", "1", "--batches-per-epoch", "2"])
    assert res.exit_code == 0, res.output
    assert "test accuracy" in res.output


@pytest.mark.parametrize(
    "args, match",
    [
        (["nope", "--rank", "1"], "TASK"),
        (["romo", "--rank", "0"], "--rank"),
        (["romo", "--rank", "9", "--neurons", "4"], "--rank"),
        (["romo", "--lr", "0"], "--lr"),
        (["romo", "--optimizer", "nosuch"], "--optimizer"),
        (["romo", "--loss", "l1"], "--loss"),
    ],
)
def test_train_bad_arguments_exit_2_and_write_nothing(args, match, tmp_path, capsys) -> None:
    path = tmp_path / "never.pt"
    with pytest.raises(SystemExit) as exc:
        main(["train", *args, "--save", str(path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err
    assert not path.exists()
