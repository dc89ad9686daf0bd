"""
A sparse network's spectrum against theory
==========================================

A rank-one connectivity ``m n^T`` made sparse with exactly ``C`` connections per column and
rescaled (Herbert & Ostojic 2022, eq 12) has one eigenvalue outlier near ``C sigma_mn``
(eq 13) and a bulk of eigenvalues in a disc whose radius eq 14 predicts. Here we draw one such
network, measure its spectrum and draw both predictions on top of it.
"""

# %%
import matplotlib.pyplot as plt

from lowrank_rnn.connectivity import rank_one_network
from lowrank_rnn.plotting import plot_eigenvalues
from lowrank_rnn.theory.spectrum import (
    eigenvalues,
    measure_spectrum,
    theory_bulk_radius,
    theory_outlier,
)

n, c, sigma2, sigma_mn = 1000, 100, 0.09, 0.016  # the paper uses N = 2000, C = 200
net = rank_one_network(n, sigma2=sigma2, sigma_mn=sigma_mn, c=c, rescaled=True, rng=0)

# %%
# The theory gives the outlier and the bulk radius from the loading statistics alone.
outlier = theory_outlier(sigma_mn, n_neurons=n, c=c, rescaled=True)
radius = theory_bulk_radius(sigma2, n_neurons=n, c=c, rescaled=True)
res = measure_spectrum(net)
print(f"outlier: measured {res.outlier.real:.3f}, eq 13 predicts {outlier:.3f}")
print(f"bulk radius: measured {res.bulk_radius:.3f}, eq 14 predicts {radius:.3f}")

# %%
# All eigenvalues (dense below a few thousand neurons), the predicted bulk circle and outlier.
fig, ax = plt.subplots(layout="constrained", figsize=(5, 5))
plot_eigenvalues(ax, eigenvalues(net), radius=radius, outlier=outlier)
ax.set_title(f"N = {n}, C = {c}: eigenvalues and eq 13-14")
plt.show()
