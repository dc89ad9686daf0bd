"""Dubreuil et al. 2022: which tasks need population structure (measured, not assumed).

Figure ``Populations`` (the paper's headline claim): low-rank networks are trained by
BPTT on perceptual decision making (PDM, rank 1), parametric working memory (PWM, rank 2) and
context-dependent decision making (CDM, rank 1); a Gaussian mixture with P = 1, 2, ...
populations is fitted to each neuron's loadings ``(m, n, I, w)`` (scikit-learn), networks are
resampled from each fit, and their accuracy on held-out trials is measured over several draws.
The paper: one population suffices for PDM and PWM but not for CDM, which needs two. A control
resamples the trained network's own neurons with replacement
(:func:`lowrank_rnn.fit.populations.bootstrap_network`): it shows how much accuracy resampling
at a given size costs without any Gaussian model.

Full mode trains 3 seeds per task (N = 256), resamples at 4 N = 1024 and draws 10 networks per
fit, and reports the smallest P (up to 4) that reaches the criterion for CDM, and whether it is
the paper's two. Resampling at the trained size (N = 256) costs CDM accuracy even in the control
(0.83 against 0.998 for the trained network, one seed, 20 draws), so there every P fails; at
N = 1024 the control keeps 0.97. Measured in full mode (3 seeds, 30 draws per P): PDM keeps 1.0
at every P; PWM networks train to 0.82-0.83 only (below the 90 % criterion) and P = 1 keeps
exactly that (0.828, equal to the control); CDM falls from 0.998 trained to 0.758, 0.774,
0.866, 0.883 for P = 1, 2, 3, 4 (each point's own stream; with one stream shared by all points,
as before the points ran in parallel: 0.754, 0.794, 0.883, 0.838; the fits' EM starts differ,
a variation the standard errors over draws do not contain): P = 2 is not enough, no P up to 4
reaches 90 % on average (BIC picks P = 3 for one seed checked). Rows relative to the trained
accuracy (ratio ``KEEP`` = 0.95) separate a shortfall of training from one of the population
model.

In full mode each task and seed is a point of a sweep (:func:`populations_point`: training,
fits, resampled draws and controls): the nine points run in parallel on the local cluster (or
``--scheduler``), and are stored under the run's sweep directory, so a rerun reuses them. The
resampled networks are simulated in float32, with the decisions that lie within
:data:`DECISION_MARGIN` of the boundary recomputed in float64 (the accuracies are the float64
ones), and the bootstrap controls simulate each drawn neuron once (its copies merged). Quick mode
trains one small network per task (PDM and CDM
only, N = 128, resampled at that size, labelled in the check rows), too small to settle that
number: it only checks that P = 1 fails and that more populations do better.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from lowrank_rnn.reproduce._core import (
    Checks,
    FigureData,
    FigureSpec,
    Paper,
    Settings,
    finish_figure,
)

__all__ = ["PAPER", "CITATION", "FIGURES", "train_task_network", "resampled_accuracy",
           "bootstrap_accuracy", "populations_point"]

KEY = "dubreuil2022"
CITATION = (
    "Dubreuil A., Valente A., Beiran M., Mastrogiuseppe F., Ostojic S. (2022) The role of "
    "population structure in computations through neural dynamics. Nature Neuroscience 25: "
    "783–794. doi:10.1038/s41593-022-01088-4"
)

#: Accuracy that counts as solving a task.
CRITERION = 0.9
#: Fraction of the trained networks' accuracy that counts as kept by resampled networks.
KEEP = 0.95
_RANKS = {"random_dots": 1, "romo": 2, "context": 1}
_LABELS = {"random_dots": "PDM", "romo": "PWM", "context": "CDM"}


def train_task_network(task: str, rank: int, n_neurons: int, n_epochs: int, seed: int) -> Any:
    """Train a rank-``rank`` network on ``task`` (fresh trials each step, keep-best on a
    validation set; the authors' state noise 0.05 per step) and return the trainer."""
    from lowrank_rnn.fit.bptt import BPTTTrainer
    from lowrank_rnn.tasks import TASKS, decision_accuracy, task_streams

    spec = TASKS[task]
    streams = task_streams(seed)
    val = spec.trials(256, rng=streams["validation"])
    tr = BPTTTrainer(n_neurons, rank, lr=1e-2, n_epochs=n_epochs, batches_per_epoch=10,
                     noise=0.05 / math.sqrt(val.dt), grad_clip=1.0,
                     validation_metric=decision_accuracy, keep_best=True, random_state=seed)
    return tr.fit(lambda rng: spec.trials(32, rng=rng), val)


#: float32 decisions closer than this to the decision boundary (the sign of the mean readout
#: over the response steps) are recomputed in float64. Measured float32-vs-float64 difference of
#: the readout: below 2e-6 (16 networks of N = 1024 resampled from trained CDM and PWM networks,
#: 512 trials each); the margin is 500 times that, so every decision equals the float64 one.
DECISION_MARGIN = 1e-3


def _decision_statistic(z: np.ndarray, batch: Any) -> np.ndarray:
    """Mean readout over each trial's masked steps, shape (batch,) (one output)."""
    mk = batch.mask[..., 0].astype(float)
    return (z[..., 0] * mk).sum(axis=1) / np.maximum(mk.sum(axis=1), 1)


def _accuracy(net: Any, batch: Any) -> float:
    """Decision accuracy of ``net`` on ``batch`` from rest, as in float64.

    One-output tasks (the sign of the mean readout decides) are simulated in float32 (about
    1.7 times faster at N = 1024) and the trials whose decision statistic lies within
    :data:`DECISION_MARGIN` of 0 are simulated again in float64; other tasks in float64.
    """
    from lowrank_rnn.simulate import simulate
    from lowrank_rnn.tasks import decision_accuracy

    if batch.d_out != 1 or batch.info.get("response_period") is not None:
        z = simulate(net, batch.inputs, dt=batch.dt, keep_x=False).z[:, 1:]
        return float(decision_accuracy(z, batch))
    z = simulate(net, batch.inputs, dt=batch.dt, keep_x=False, dtype=np.float32).z[:, 1:]
    z = z.astype(float)
    near = np.flatnonzero(np.abs(_decision_statistic(z, batch)) < DECISION_MARGIN)
    if near.size:
        z[near] = simulate(net, batch.inputs[near], dt=batch.dt, keep_x=False).z[:, 1:]
    return float(decision_accuracy(z, batch))


def resampled_accuracy(net: Any, n_populations: int, batch: Any, *, draws: int,
                       rng: np.random.Generator,
                       n_neurons: int | None = None) -> tuple[np.ndarray, Any]:
    """Accuracy of ``draws`` networks of ``n_neurons`` (default: the trained size) resampled
    from a P-population fit.

    Returns
    -------
    accuracies : ndarray, shape (draws,)
    fit : PopulationMixture
    """
    from lowrank_rnn.fit.populations import fit_populations, resampled_scores

    fit = fit_populations(net, n_populations, rng=rng)
    size = net.n_neurons if n_neurons is None else n_neurons
    acc = resampled_scores(fit.mixture_, size, lambda nw: _accuracy(nw, batch),
                           draws=draws, rng=rng)
    return acc, fit


def bootstrap_accuracy(net: Any, batch: Any, *, draws: int, rng: np.random.Generator,
                       n_neurons: int | None = None) -> np.ndarray:
    """Accuracy of ``draws`` networks of ``n_neurons`` (default: the trained size) whose neurons
    are the trained network's resampled with replacement
    (:func:`lowrank_rnn.fit.populations.bootstrap_network`; the control for the population
    fits: the empirical loading distribution instead of a Gaussian mixture).

    Returns
    -------
    accuracies : ndarray, shape (draws,)
    """
    from lowrank_rnn.fit.populations import bootstrap_network

    size = net.n_neurons if n_neurons is None else n_neurons
    # copies of a neuron stay equal from x0 = 0 without noise: simulated once (merge_copies)
    return np.array([_accuracy(bootstrap_network(net, size, rng=g, merge_copies=True), batch)
                     for g in rng.spawn(draws)])


def _task_seed(task: str, n_neurons: int, resampled_neurons: int, epochs: int, draws: int,
               max_populations: int, n_test: int, seed: int,
               rng: np.random.Generator) -> dict[str, Any]:
    from lowrank_rnn.fit.populations import network_loadings
    from lowrank_rnn.tasks import TASKS, task_streams

    tr = train_task_network(task, _RANKS[task], n_neurons, epochs, seed)
    net = tr.to_network()
    test = TASKS[task].trials(n_test, rng=task_streams(seed)["test"])
    trained = _accuracy(net, test)
    boot = bootstrap_accuracy(net, test, draws=draws, n_neurons=resampled_neurons,
                              rng=np.random.default_rng(seed + 6000))
    acc = np.stack([resampled_accuracy(net, p, test, draws=draws, rng=rng,
                                       n_neurons=resampled_neurons)[0]
                    for p in range(1, max_populations + 1)])
    X, _ = network_loadings(net)
    return {"trained": trained, "accuracy": acc, "bootstrap": boot,
            "m": X[:, 0], "n": X[:, _RANKS[task]]}


def populations_point(task: str, n_neurons: int, resampled_neurons: int, epochs_pdm: int,
                      epochs_pwm: int, epochs_cdm: int, draws: int, max_populations: int,
                      n_test: int, seed: int) -> dict[str, Any]:
    """One task and seed of the full-mode ``Populations`` figure (a sweep point; see the module
    docstring).

    Trains the network (:func:`train_task_network`, ``epochs_*`` for PDM, PWM, CDM), scores it
    on ``n_test`` held-out trials, then ``draws`` networks of ``resampled_neurons`` resampled
    from each of the P = 1 .. ``max_populations`` fits, and ``draws`` bootstrap controls, on the
    same trials. The fits and draws use their own stream ``(seed, 2022, task index)``.

    Returns
    -------
    dict with ``trained`` (accuracy), ``accuracy`` shape (max_populations, draws),
    ``bootstrap`` shape (draws,), and the trained loadings ``m``, ``n`` shape (n_neurons,)
    (first rank-one pair, mean-field units).
    """
    epochs = {"random_dots": epochs_pdm, "romo": epochs_pwm, "context": epochs_cdm}[task]
    rng = np.random.default_rng([seed, 2022, list(_RANKS).index(task)])
    return _task_seed(task, n_neurons, resampled_neurons, epochs, draws, max_populations,
                      n_test, seed, rng)


def compute_populations(settings: Settings) -> FigureData:
    """Train, fit P populations, resample, score (see the module docstring).

    In full mode each task and seed is a point of a sweep (:func:`populations_point`): the
    points run on the local cluster (or ``settings.scheduler``) and are stored under the run's
    sweep directory, so a rerun reuses the trained and scored networks. Quick mode runs them in
    this process with one stream shared by all of them.
    """
    ch = Checks(KEY, "Populations")
    if settings.quick:
        tasks = {"random_dots": 20, "context": 40}
        seeds, n, draws, pops, n_test = [settings.seed], 128, 3, [1, 2, 3], 256
        n_res = n
    else:
        tasks = {"random_dots": 40, "romo": 80, "context": 60}
        seeds = [settings.seed + s for s in range(3)]
        n, draws, pops, n_test = 256, 10, [1, 2, 3, 4], 512
        # resampled at 4x the trained size: at the trained size the sampling error of the
        # overlaps costs CDM accuracy even for the trained neurons themselves (the control)
        n_res = 4 * n
    label = (f"quick: 1 seed, N = {n}, {draws} draws" if settings.quick
             else f"{len(seeds)} seeds, N = {n} trained, {n_res} resampled, {draws} draws")
    if settings.quick:  # in-process, one stream for every task and seed (as before sweeps)
        rng = np.random.default_rng(settings.seed + 2022)
        runs = [[_task_seed(t, n, n_res, e, draws, pops[-1], n_test, sd, rng) for sd in seeds]
                for t, e in tasks.items()]
        out = {k: np.array([[r[k] for r in row] for row in runs]) for k in runs[0][0]}
    else:  # the points on the local cluster (or settings.scheduler), stored and resumable
        from lowrank_rnn.reproduce._core import sweep_arrays

        out = sweep_arrays(populations_point, {"task": list(tasks)}, seeds, settings=settings,
                           name="dubreuil2022_populations",
                           fixed={"n_neurons": n, "resampled_neurons": n_res,
                                  "epochs_pdm": tasks["random_dots"],
                                  "epochs_pwm": tasks["romo"], "epochs_cdm": tasks["context"],
                                  "draws": draws, "max_populations": pops[-1],
                                  "n_test": n_test})
    results: dict[str, Any] = {}
    for i, (task, epochs) in enumerate(tasks.items()):
        trained = [float(v) for v in out["trained"][i]]
        acc_arr = {p: out["accuracy"][i, :, p - 1].ravel() for p in pops}
        boot_arr = out["bootstrap"][i].ravel()
        results[task] = {"trained": trained, "accuracy": acc_arr,
                         "example": (out["m"][i, 0], out["n"][i, 0]), "bootstrap": boot_arr}
        tag = _LABELS[task]
        ch.greater(f"{tag}: trained rank-{_RANKS[task]} networks reach {CRITERION:.0%} "
                   f"(min over seeds; {label}, {epochs} epochs)", min(trained), CRITERION - 1e-9)
        if not settings.quick:
            ch.greater(f"{tag}: control: the trained neurons resampled with replacement (no "
                       f"Gaussian model) reach {CRITERION:.0%} (mean over draws; "
                       f"{label}; where this fails, resampled accuracies cannot separate P)",
                       float(boot_arr.mean()), CRITERION - 1e-9)
    means = {t: {p: float(r["accuracy"][p].mean()) for p in pops} for t, r in results.items()}
    ses = {t: {p: float(r["accuracy"][p].std(ddof=1) / np.sqrt(r["accuracy"][p].size))
               if r["accuracy"][p].size > 1 else 0.0 for p in pops}
           for t, r in results.items()}
    for task in ("random_dots", "romo"):
        if task in results:
            ch.greater(f"{_LABELS[task]}: one population suffices: networks resampled from a "
                       f"P = 1 fit reach {CRITERION:.0%} (mean over draws, se "
                       f"{ses[task][1]:.3f}; {label})", means[task][1], CRITERION - 1e-9)
    # relative to the trained networks: separates a shortfall of training from one of P = 1
    for task in results if not settings.quick else ():
        keep = means[task][1] / float(np.mean(results[task]["trained"]))
        if task == "context":
            ch.less(f"CDM: P = 1 resampled accuracy over the trained networks' (the paper: one "
                    f"population loses accuracy; {label})", keep, KEEP)
        else:
            ch.greater(f"{_LABELS[task]}: P = 1 resampled accuracy over the trained networks' "
                       f"(one population keeps what training reached; {label})", keep, KEEP)
    c = means["context"]
    ch.less(f"CDM: one population does not suffice: P = 1 resampled accuracy (se "
            f"{ses['context'][1]:.3f}; {label})", c[1], CRITERION)
    found = next((p for p in pops if c[p] >= CRITERION), None)
    if settings.quick:  # one small network cannot settle the number; it can order P = 1 last
        best = max(pops[1:], key=lambda p: c[p])
        ch.holds(f"CDM: a fit with more populations resamples better than P = 1 (best P = "
                 f"{best}; {label}; the number needed is measured in full mode)",
                 c[best] > c[1], {p: round(v, 3) for p, v in c.items()}, "best P > 1 above P = 1")
    else:
        ch.holds(f"CDM: the smallest P <= {pops[-1]} whose resampled networks reach "
                 f"{CRITERION:.0%}, as measured (the paper: more than one; accuracies "
                 f"{ {p: round(v, 3) for p, v in c.items()} })",
                 found is not None and found > 1, "none" if found is None else found,
                 "some P > 1")
        ch.holds(f"CDM: two populations suffice, the number the paper reports (P = 2 "
                 f"resampled accuracy {c[2]:.3f}, se {ses['context'][2]:.3f}; {label})",
                 found == 2, "none" if found is None else found, 2)
    return FigureData(
        data={"means": means, "ses": ses, "pops": pops,
              "trained": {t: r["trained"] for t, r in results.items()},
              "examples": {t: r["example"] for t, r in results.items()}},
        checks=ch,
        params={"tasks": {t: {"rank": _RANKS[t], "epochs": e} for t, e in tasks.items()},
                "seeds": seeds, "n_neurons": n, "resampled_neurons": n_res, "draws": draws,
                "populations": pops,
                "criterion": CRITERION, "means": means, "standard_errors": ses,
                "trained_accuracy": {t: r["trained"] for t, r in results.items()},
                "bootstrap_accuracy": {t: float(r["bootstrap"].mean())
                                       for t, r in results.items()}},
    )


def plot_populations(fd: FigureData, path: Path) -> None:
    """Resampled accuracy against P per task; the CDM network's loadings by population."""
    import matplotlib.pyplot as plt

    from lowrank_rnn.plotting.populations import plot_loadings

    d = fd.data
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.6))
    for j, (task, m) in enumerate(d["means"].items()):
        ps = d["pops"]
        ax[0].errorbar(ps, [m[p] for p in ps], [d["ses"][task][p] for p in ps], fmt="o-",
                       color=f"C{j}", label=_LABELS[task])
        ax[0].axhline(np.mean(d["trained"][task]), color=f"C{j}", ls=":", lw=1)
    ax[0].axhline(CRITERION, color="k", ls="--", lw=0.8)
    ax[0].set_xlabel("populations P of the fit")
    ax[0].set_ylabel("accuracy of resampled networks")
    ax[0].legend(fontsize=7)
    m, n = d["examples"]["context"]
    plot_loadings(ax[1], m, n, None, xlabel="m", ylabel="n (CDM network)")
    finish_figure(fig, path)


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("Populations", "One population suffices for PDM and PWM, not for CDM",
               compute_populations, plot_populations, requires=("torch",),
               quick_note=("One seed, N = 128, 3 resampled draws, P up to 3, and only PDM and "
                           "CDM (PWM is trained in full mode); the number of populations CDM "
                           "needs is measured in full mode only.")),
)

PAPER = Paper(key=KEY, citation=CITATION, figures=FIGURES)
