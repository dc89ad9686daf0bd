"""
Mean-field flow field and fixed points
======================================

A rank-2 network whose loadings are drawn from a mixture of two Gaussian populations (Beiran et
al. 2021) has, as ``N`` grows, latent dynamics ``dkappa/dt = F(kappa)`` given by Gaussian
averages over each population. Here each population strengthens one latent direction, which
gives four stable fixed points; we draw the flow, find all fixed points and classify them.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from lowrank_rnn.plotting import plot_fixed_points, plot_flow_field
from lowrank_rnn.theory.fixedpoints import find_latent_fixed_points
from lowrank_rnn.theory.meanfield import GaussianMixture, flow_field

# loadings ordered (m1, m2, n1, n2); in population p only m_p varies, overlapping with n_p
overlap = 2.4
covs = np.zeros((2, 4, 4))
for p in range(2):
    m, n, other = p, 2 + p, 3 - p
    covs[p, m, m] = 1.0
    covs[p, n, n] = overlap**2 + 0.5
    covs[p, m, n] = covs[p, n, m] = overlap
    covs[p, other, other] = 1.0
mix = GaussianMixture(np.array([0.5, 0.5]), np.zeros((2, 4)), covs, rank=2)

# %%
k1, k2, F = flow_field(mix, (-2, 2), (-2, 2), n=40, fast=True)
fps = find_latent_fixed_points(mix, (-2, 2), n_starts=200, rng=0)
for fp in fps:
    print(np.round(fp.kappa, 3), fp.kind)

fig, ax = plt.subplots(layout="constrained", figsize=(5.5, 5))
speed = np.linalg.norm(F, axis=-1)
ax.contourf(k1, k2, speed, levels=20, cmap="Greys", alpha=0.4)
plot_flow_field(ax, k1, k2, F, "mean-field flow, two populations")
plot_fixed_points(ax, [(fp.kappa, fp.kind) for fp in fps])
plt.show()
