"""
The Go/Nogo task and its psychometric curve
===========================================

Evidence accumulation as a Go/Nogo task (Herbert & Ostojic 2022, Fig 6): a noisy stimulus of
mean strength ``c_bar`` arrives along an input pattern; a bistable rank-one network starts in its
lower state and must end with a positive readout when the stimulus is strong enough. The
psychometric curve is the fraction of trials ending positive at each strength.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from lowrank_rnn.analysis import psychometric_curve
from lowrank_rnn.plotting import plot_psychometric
from lowrank_rnn.simulate import simulate
from lowrank_rnn.tasks import evidence_network, evidence_trials

strengths = np.linspace(0.0, 1.0, 8)  # the paper uses 12 strengths x 50 repeats, N = 2000
curves, labels = [], []
for c in (60, 100):
    task_net = evidence_network(800, sigma2=0.1, sigma_mn=0.06, c=c, rng=1)
    trials = evidence_trials(strengths, repeats=8, rng=2)
    traj = simulate(task_net.net, trials.inputs, task_net.x0, dt=trials.dt, dtype=np.float32,
                    keep_x=False, backend="auto")
    cur = psychometric_curve(traj.z, trials.info["strength"],
                             window_steps=trials.info["window_steps"])
    curves.append(cur["p_positive"])
    labels.append(f"C = {c} (outlier {task_net.outlier:.1f})")

# %%
# Sparser networks (smaller C) have a smaller outlier, so their upper state is reached with
# less evidence: the curve moves to the left.
fig, axes = plt.subplots(1, 2, layout="constrained", figsize=(10, 4))
t = np.arange(traj.z.shape[1]) * trials.dt
axes[0].plot(t, traj.z[::8, :, 0].T, lw=0.8)
axes[0].set_xlabel("time (tau)")
axes[0].set_ylabel("readout z")
axes[0].set_title("C = 100: one trial per strength")
plot_psychometric(axes[1], strengths, curves, labels, title="psychometric curves")
plt.show()
