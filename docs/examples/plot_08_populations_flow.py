"""
Populations that approximate a target flow
==========================================

With enough Gaussian populations a rank-R network approximates any R-dimensional dynamical
system (Beiran et al. 2021). :func:`~lowrank_rnn.fit.populations.fit_sequence` fits mixtures
with an increasing number ``P`` of populations to a target vector field (here a Hopf
oscillator), each fit starting from the previous one, so the error can only decrease. The
populations get their biases from one constant input held at ``v = 1``.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from lowrank_rnn.fit.populations import fit_sequence, hopf_target
from lowrank_rnn.plotting import plot_flow_field
from lowrank_rnn.theory.meanfield import flow_field

target = hopf_target(omega=1.0, radius=1.0)
pops = [1, 2, 4, 8]
fits = fit_sequence(target, pops, rank=2, rng=0, n_grid=11, max_nfev=40)
for p, f in zip(pops, fits, strict=True):
    print(f"P = {p}: relative error {f.relative_error:.3f}")

# %%
# The target field and the mean-field flow of the mixture with the most populations.
k = np.linspace(-1.5, 1.5, 25)
K1, K2 = np.meshgrid(k, k)
F_target = target(np.stack([K1, K2], axis=-1).reshape(-1, 2)).reshape(25, 25, 2)
k1, k2, F_fit = flow_field(fits[-1].mixture, (-1.5, 1.5), (-1.5, 1.5), n=25, v=np.array([1.0]),
                           fast=True)

fig, axes = plt.subplots(1, 3, layout="constrained", figsize=(14, 4.3))
plot_flow_field(axes[0], k, k, F_target, "target: Hopf oscillator", n_arrows=13)
plot_flow_field(axes[1], k1, k2, F_fit, f"mean field, P = {pops[-1]} populations", n_arrows=13)
axes[2].semilogy(pops, [f.relative_error for f in fits], "o-")
axes[2].set_xlabel("populations P")
axes[2].set_ylabel("relative error of the fitted field")
axes[2].set_title("error against P")
plt.show()
