"""``lowrank-rnn train TASK``: train a low-rank or full-rank network on a task by BPTT, save it.

Fresh trials are generated for every gradient step (PsychRNN's habit); a validation set and a
held-out test set come from independent streams of the seed (:func:`task_streams`). The test
metric is the task's own (:func:`lowrank_rnn.tasks.score_task`: decision accuracy over the
response period, interval accuracy for ready-set-go, rate R^2 for the flip-flop). NeuroGym
environments are trained by name as ``neurogym:ENV_ID`` (cross-entropy over the actions).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["register", "train_command"]


def _summary(curve: list[float]) -> dict[str, Any]:
    vals = [v for v in curve if isinstance(v, float) and math.isfinite(v)]
    if not vals:
        return {"n": len(curve)}
    return {"n": len(curve), "first": vals[0], "last": vals[-1], "min": min(vals),
            "argmin_epoch": int(curve.index(min(vals))) + 1}


def train_command(
    task: Annotated[str, typer.Argument(help="Task name (see --help), or neurogym:ENV_ID.")],
    rank: Annotated[
        int | None, typer.Option("--rank", help="Rank of J = M N^T / N (omit: full rank).")
    ] = None,
    neurons: Annotated[int, typer.Option("--neurons", help="Number of neurons N.")] = 128,
    epochs: Annotated[int, typer.Option("--epochs", help="Epochs.")] = 30,
    batches_per_epoch: Annotated[
        int, typer.Option("--batches-per-epoch", help="Gradient steps per epoch.")
    ] = 10,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Trials per step.")] = 32,
    lr: Annotated[float, typer.Option("--lr", help="Learning rate.")] = 1e-2,
    optimizer: Annotated[
        str, typer.Option("--optimizer", help="A torch.optim optimiser by name.")
    ] = "adam",
    loss: Annotated[
        str | None,
        typer.Option("--loss", help="mse or cross_entropy (default: mse; NeuroGym: "
                                    "cross_entropy)."),
    ] = None,
    noise: Annotated[float, typer.Option("--noise", help="State noise in training.")] = 0.05,
    l2_rates: Annotated[float, typer.Option("--l2-rates", help="L2 penalty on rates.")] = 0.0,
    l2_weights: Annotated[
        float, typer.Option("--l2-weights", help="L2 penalty on weights.")
    ] = 0.0,
    grad_clip: Annotated[float, typer.Option("--grad-clip", help="Max gradient norm.")] = 1.0,
    validation: Annotated[
        int, typer.Option("--validation", help="Validation trials (keep-best).")
    ] = 128,
    test: Annotated[int, typer.Option("--test", help="Held-out test trials.")] = 256,
    patience: Annotated[
        int | None, typer.Option("--patience", help="Early stopping patience (epochs).")
    ] = None,
    env_dt: Annotated[
        float, typer.Option("--env-dt", help="NeuroGym: the environment's step in ms.")
    ] = 20.0,
    tau_ms: Annotated[
        float, typer.Option("--tau-ms", help="NeuroGym: the network's tau in ms.")
    ] = 100.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    device: Annotated[str, typer.Option("--device", help="cpu, cuda or auto.")] = "cpu",
    save: Annotated[
        Path | None, typer.Option("--save", help="Write the trained trainer here (.pt).")
    ] = None,
    progress: Annotated[bool, typer.Option("--progress", help="Show progress.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train a network on TASK, report the held-out metric and save the trainer.

    Tasks: random_dots, romo, multisensory, context, match_to_sample (Dubreuil et al. 2022),
    ready_set_go (Beiran et al. 2021), flipflop, decision; or neurogym:ENV_ID. The saved file
    reloads with ``BPTTTrainer.load(FILE)``.
    """
    from lowrank_rnn._validate import check_choice, check_int, check_real
    from lowrank_rnn.tasks import TASKS, score_task, task_streams

    # ---- validate everything before any work
    is_ngym = task.startswith("neurogym:")
    if not is_ngym:
        check_choice("TASK", task, tuple(TASKS))
    neurons = check_int("--neurons", neurons, minimum=1)
    if rank is not None:
        rank = check_int("--rank", rank, minimum=1, maximum=neurons)
    check_int("--epochs", epochs, minimum=1)
    check_int("--batches-per-epoch", batches_per_epoch, minimum=1)
    check_int("--batch-size", batch_size, minimum=1)
    check_real("--lr", lr, minimum=0.0, min_inclusive=False)
    check_real("--noise", noise, minimum=0.0)
    check_real("--l2-rates", l2_rates, minimum=0.0)
    check_real("--l2-weights", l2_weights, minimum=0.0)
    check_real("--grad-clip", grad_clip, minimum=0.0, min_inclusive=False)
    check_int("--validation", validation, minimum=1)
    check_int("--test", test, minimum=1)
    if patience is not None:
        check_int("--patience", patience, minimum=1)
    check_real("--env-dt", env_dt, minimum=0.0, min_inclusive=False)
    check_real("--tau-ms", tau_ms, minimum=0.0, min_inclusive=False)
    check_int("--seed", seed, minimum=0)
    check_choice("--device", device, ("cpu", "cuda", "auto"))
    if loss is None:
        loss = "cross_entropy" if is_ngym else "mse"
    check_choice("--loss", loss, ("mse", "cross_entropy"))
    if save is not None:
        from lowrank_rnn._io import check_output_file

        check_output_file("--save", save)
    try:
        import torch  # noqa: F401
    except ImportError as err:
        raise ValueError("train: needs PyTorch (pip install 'lowrank-rnn[torch]')") from err
    from lowrank_rnn.fit.bptt import BPTTTrainer, _resolve_class, resolve_device

    _resolve_class("--optimizer", optimizer, "optim")
    resolve_device(device)

    if is_ngym:
        from lowrank_rnn.tasks.neurogym import make_env, neurogym_trials

        env_id = task.split(":", 1)[1]
        try:
            env = make_env(env_id, dt=env_dt)
        except ImportError as err:
            raise ValueError(f"TASK={task!r}: {err}") from err
        except Exception as err:  # gymnasium raises its own errors for unknown ids
            raise ValueError(f"TASK={task!r}: NeuroGym cannot make {env_id!r}: {err}") from err

        def make(n: int, rng: Any) -> Any:
            return neurogym_trials(env, n, tau_ms=tau_ms, rng=rng)
    else:
        spec = TASKS[task]

        def make(n: int, rng: Any) -> Any:
            return spec.trials(n, rng=rng)

    t0 = time.perf_counter()
    streams = task_streams(seed)
    val_batch = make(validation, streams["validation"])
    test_batch = make(test, streams["test"])
    if is_ngym:
        from lowrank_rnn.tasks import decision_accuracy

        metric = decision_accuracy
    else:
        def metric(z: Any, b: Any) -> float:
            return float(score_task(task, z, b)[TASKS[task].metric])

    trainer = BPTTTrainer(
        neurons, rank, lr=lr, optimizer=optimizer, loss=loss, n_epochs=epochs,
        batches_per_epoch=batches_per_epoch, grad_clip=grad_clip, noise=noise,
        l2_rates=l2_rates, l2_weights=l2_weights, validation_metric=metric, keep_best=True,
        early_stopping=patience, device=device, progress=progress and not as_json,
        random_state=seed,
    )
    trainer.fit(lambda rng: make(batch_size, rng), val_batch)
    z, x = trainer.predict(test_batch.inputs, return_states=True)
    if is_ngym:
        scores = {"accuracy": decision_accuracy(z, test_batch)}
    else:
        scores = score_task(task, z, test_batch, x if task == "flipflop" else None)
    if save is not None:
        trainer.save_checkpoint(save)
    h = trainer.history_
    out = {
        "task": task, "neurons": neurons, "rank": rank, "epochs": trainer.epochs_done_,
        "test": {k: float(v) for k, v in scores.items()},
        "train_loss": _summary(h["train_loss"]), "val_loss": _summary(h["val_loss"]),
        "val_metric": _summary(h["val_metric"]), "best_epoch": trainer.info_["best_epoch"],
        "stopped_early": trainer.info_["stopped_early"], "n_params": trainer.n_params_,
        "seconds": time.perf_counter() - t0, "saved": None if save is None else str(save),
    }
    if as_json:
        typer.echo(json.dumps(out))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"BPTT on {task}: N={neurons}, rank {rank or 'full'}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for k, v in out["test"].items():
        table.add_row(f"test {k}", f"{v:.4g}")
    table.add_row("final training loss", f"{out['train_loss'].get('last', float('nan')):.4g}")
    table.add_row("best validation loss", f"{out['val_loss'].get('min', float('nan')):.4g}")
    table.add_row("best epoch", str(out["best_epoch"]))
    table.add_row("seconds", f"{out['seconds']:.1f}")
    if save is not None:
        table.add_row("saved", str(save))
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the ``train`` command to ``app``."""
    app.command("train")(train_command)
