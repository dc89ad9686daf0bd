"""Task metrics: what "solved" means for each task of the suite.

- :func:`decision_accuracy`: the fraction of trials whose response is correct. With one output
  channel the response is the sign of the mean output over the trial's masked (response) steps,
  compared with the sign of the mean target there (Dubreuil et al. 2022, Methods); trials whose
  target is 0 there (catch trials) are left out. With several output classes and integer
  ``labels`` (NeuroGym) it is the arg-max of the mean output over the masked steps against the
  label the target holds there.
- :func:`flipflop_r2`: the two R^2 of the Computation-Through-Dynamics benchmark (Versteeg et al.
  2024) for a task-trained flip-flop: ``rate_r2``, the R^2 of the readout against the bits it
  must hold, and ``state_r2``, the R^2 of the best affine map from the network's states to the
  true latent state (the three bits).
- :func:`timing_error`: relative error of the produced interval of the ready-set-go task.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lowrank_rnn._validate import check_real
from lowrank_rnn.tasks._base import TrialBatch

__all__ = ["decision_accuracy", "flipflop_r2", "r2_score", "timing_error"]


def _check_outputs(outputs: Any, batch: TrialBatch) -> np.ndarray:
    if not isinstance(batch, TrialBatch):
        raise ValueError(f"batch: expected a TrialBatch, got {type(batch).__name__}")
    out = np.asarray(outputs, dtype=float)
    if out.ndim != 3 or out.shape[:2] != batch.targets.shape[:2]:
        raise ValueError(
            f"outputs: expected shape (batch, time, d_out) = {batch.targets.shape[:2]} + (d,), "
            f"got {out.shape}"
        )
    return out


def decision_accuracy(
    outputs: np.ndarray, batch: TrialBatch, period: str | None = None
) -> float:
    """Fraction of correct decisions over the response steps of each trial.

    Parameters
    ----------
    outputs : ndarray, shape (batch, time, d_out)
        Network readout on ``batch.inputs``.
    batch : TrialBatch
    period : str, optional
        Name of the response period; default ``batch.info['response_period']`` when the batch
        names one (NeuroGym batches whose loss covers whole trials), else the loss mask.

    Returns
    -------
    float
        Accuracy in [0, 1] (NaN if no trial carries a decision).
    """
    out = _check_outputs(outputs, batch)
    if period is None:
        period = batch.info.get("response_period")
    if period is not None:
        pm = batch.period_mask(period)
        batch = TrialBatch(batch.inputs, batch.targets,
                           np.repeat(pm[..., None], batch.d_out, axis=2), batch.dt, batch.paper,
                           {}, batch.periods, batch.labels)
    m = batch.mask.any(axis=2)  # (batch, time)
    n = m.sum(axis=1)
    if batch.labels is not None and out.shape[2] > 1:
        mean_out = np.einsum("bt,btk->bk", m, out) / np.maximum(n, 1)[:, None]
        lab = np.where(m, batch.labels, -1)
        # the label held over the response steps (the most frequent one)
        n_cls = max(int(batch.labels.max()) + 1, out.shape[2])
        counts = np.stack([(lab == c).sum(axis=1) for c in range(n_cls)], axis=1)
        want = counts.argmax(axis=1)
        ok = n > 0
        if not ok.any():
            return float("nan")
        return float(np.mean(mean_out[ok].argmax(axis=1) == want[ok]))
    if out.shape != batch.targets.shape:
        raise ValueError(f"outputs: expected shape {batch.targets.shape}, got {out.shape}")
    mk = batch.mask.astype(float)
    cnt = mk.sum(axis=1)  # (batch, d_out)
    mean_t = (batch.targets * mk).sum(axis=1) / np.maximum(cnt, 1)
    mean_z = (out * mk).sum(axis=1) / np.maximum(cnt, 1)
    ok = (cnt > 0) & (mean_t != 0)
    if not ok.any():
        return float("nan")
    return float(np.mean(np.sign(mean_z[ok]) == np.sign(mean_t[ok])))


def r2_score(pred: np.ndarray, target: np.ndarray) -> float:
    """Coefficient of determination of ``pred`` against ``target`` (rows = samples, columns =
    variables): ``1 - sum (target - pred)^2 / sum (target - mean)^2`` over all columns (the
    variance-weighted R^2)."""
    pred, target = np.asarray(pred, dtype=float), np.asarray(target, dtype=float)
    ss_res = float(((target - pred) ** 2).sum())
    ss_tot = float(((target - target.mean(axis=0)) ** 2).sum())
    return float("nan") if ss_tot == 0 else 1.0 - ss_res / ss_tot


def flipflop_r2(
    outputs: np.ndarray, batch: TrialBatch, states: np.ndarray | None = None
) -> dict[str, float]:
    """Rate and state R^2 of a flip-flop network (Computation-Through-Dynamics benchmark).

    Parameters
    ----------
    outputs : ndarray, shape (batch, time, n_bits)
        Network readout.
    batch : TrialBatch
        Flip-flop trials (targets = the bits; only steps after each channel's first pulse count).
    states : ndarray, shape (batch, time, N), optional
        Network states; gives ``state_r2``: the R^2 of the least-squares affine map from the
        states to the bits over the steps where every bit is defined.

    Returns
    -------
    dict
        ``rate_r2`` and (with ``states``) ``state_r2``.
    """
    out = _check_outputs(outputs, batch)
    if out.shape != batch.targets.shape:
        raise ValueError(f"outputs: expected shape {batch.targets.shape}, got {out.shape}")
    m = batch.mask
    res = {"rate_r2": r2_score(out[m][:, None], batch.targets[m][:, None])}
    if states is not None:
        x = np.asarray(states, dtype=float)
        if x.ndim != 3 or x.shape[:2] != out.shape[:2]:
            raise ValueError(f"states: expected shape {out.shape[:2]} + (N,), got {x.shape}")
        all_set = m.all(axis=2)
        xs = x[all_set]
        ys = batch.targets[all_set]
        if xs.shape[0] <= xs.shape[1] + 1:
            raise ValueError(
                f"states: {xs.shape[0]} defined steps cannot fit an affine map from "
                f"{xs.shape[1]} dimensions; use more or longer trials"
            )
        design = np.concatenate([xs, np.ones((xs.shape[0], 1))], axis=1)
        coef, *_ = np.linalg.lstsq(design, ys, rcond=None)
        res["state_r2"] = r2_score(design @ coef, ys)
    return res


def timing_error(
    outputs: np.ndarray, batch: TrialBatch, threshold: float = 0.35, tolerance: float = 0.1
) -> dict[str, float]:
    """Interval reproduction on ready-set-go trials.

    Parameters
    ----------
    outputs : ndarray, shape (batch, time, 1)
    batch : TrialBatch
        From :func:`lowrank_rnn.tasks.timing.ready_set_go_trials`.
    threshold : float
        Output level read as "Go" (see :func:`~lowrank_rnn.tasks.timing.produced_intervals`).
    tolerance : float
        Relative error below which a trial counts as correct.

    Returns
    -------
    dict
        ``relative_error`` (mean ``|t_p - t_s| / t_s`` over trials that crossed), ``accuracy``
        (fraction of all trials within ``tolerance``), ``missed`` (fraction never crossing).
    """
    from lowrank_rnn.tasks.timing import produced_intervals

    _check_outputs(outputs, batch)
    tolerance = check_real("tolerance", tolerance, minimum=0.0, min_inclusive=False)
    tp = produced_intervals(outputs, batch, threshold)
    ts = np.asarray(batch.info["interval"], dtype=float)
    rel = np.abs(tp - ts) / ts
    hit = np.isfinite(tp)
    return {
        "relative_error": float(np.mean(rel[hit])) if hit.any() else float("nan"),
        "accuracy": float(np.mean(np.where(hit, rel, np.inf) <= tolerance)),
        "missed": float(np.mean(~hit)),
    }
