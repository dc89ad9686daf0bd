"""
Fitting a latent LDS to data
============================

Valente et al. (2022) relate latent linear dynamical systems (LDS) and linear low-rank RNNs: a
linear rank-R RNN is an LDS of latent dimension at most 2R, while an LDS is matched by an RNN
only in limit cases. Here we sample a latent LDS observed through noisy units, fit both model
classes (EM for the LDS, reduced-rank regression for the RNN) and compare them on held-out data.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from lowrank_rnn.fit.lds import fit_lds_em, fit_rnn_rrr
from lowrank_rnn.models.lds import (
    LatentLDS,
    lds_log_likelihood,
    rnn_log_likelihood,
    sample_lds,
)

rng = np.random.default_rng(0)
n_units, n_latent = 20, 2
theta = 0.3
A = 0.95 * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
C = rng.standard_normal((n_units, n_latent)) / np.sqrt(n_latent)
true = LatentLDS(A, C, Q=0.1 * np.eye(n_latent), R=0.2 * np.eye(n_units))
_, y_train = sample_lds(true, 40, 100, rng=1)   # (sequences, time, units)
_, y_test = sample_lds(true, 40, 100, rng=2)

# %%
lds, info = fit_lds_em(y_train, n_latent, n_iter=40)
rnn, _ = fit_rnn_rrr(y_train, rank=n_latent)
per_step = y_test.shape[0] * y_test.shape[1]
scores = {
    "true LDS": lds_log_likelihood(true, y_test).sum() / per_step,
    "EM LDS (K = 2)": lds_log_likelihood(lds, y_test).sum() / per_step,
    "RRR RNN (rank 2)": rnn_log_likelihood(rnn, y_test).sum() / per_step,
}
for k, v in scores.items():
    print(f"{k:>18}: {v:.3f} nats per time step")

# %%
# EM increases the log-likelihood at every iteration; on held-out data the fitted LDS is close
# to the true one, and the rank-2 RNN, which cannot represent the observation noise of an LDS,
# scores lower.
fig, axes = plt.subplots(1, 2, layout="constrained", figsize=(11, 4))
axes[0].plot(info["log_likelihood"], "o-", ms=3)
axes[0].set_xlabel("EM iteration")
axes[0].set_ylabel("training log-likelihood")
axes[0].set_title("EM")
axes[1].barh(list(scores), list(scores.values()), color=["0.5", "C0", "C3"])
axes[1].set_xlabel("held-out log-likelihood (nats / step)")
axes[1].set_xlim(min(scores.values()) - 1, max(scores.values()) + 0.5)
axes[1].set_title("LDS vs RNN on LDS data")
plt.show()
