"""
Embedding an ODE in closed form, and the smallest RNN
=====================================================

"A new look at low-rank RNNs" trains a rank-R network to implement ``dz/dt = g(z)`` by least
squares in a random basis: with ``x = M z + I v`` the latent dynamics are
``dz/dt = -z + N^T phi(M z + I v)``, so ``N`` solves a linear regression (eq 8-11). Orthogonal
matching pursuit (Algorithm 1) then picks the fewest neurons that still fit.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from lowrank_rnn.fit.omp import SmallestRNN
from lowrank_rnn.fit.regression import ODEEmbedding, grid_points
from lowrank_rnn.fit.targets import bistable, get_ode, limit_cycle
from lowrank_rnn.plotting import plot_latent_trajectories

# %%
# A stable limit cycle on the unit circle in a rank-2 network of 300 neurons (the paper: 1000).
ode = get_ode("limit-cycle")
est = ODEEmbedding(2, 300, inputs="bias", random_state=0).fit(limit_cycle, box=ode.box,
                                                             n_points=2000)
starts = np.array([[0.2, 0.0], [1.4, 0.3], [-0.6, -1.1]])
t, z = est.simulate_latent(starts, t_span=3 * ode.period, dt=0.01)
print("training MSE:", est.info_["train_mse"])

# %%
# OMP on the bistable ODE ``g(z) = z - z^3``-like target: the mean squared error as neurons are
# added one at a time, and the fit with five of them.
box = (-1.6, 1.6)
omp = SmallestRNN(n_candidates=1000, max_neurons=8, basis="grid", random_state=0)
omp.fit(bistable, box=box, n_points=200)
zz = grid_points(box, 200, 1)

fig, axes = plt.subplots(1, 3, layout="constrained", figsize=(14, 4))
for i in range(z.shape[0]):
    plot_latent_trajectories(axes[0], z[i], color=f"C{i}")
axes[0].plot(np.cos(np.linspace(0, 2 * np.pi)), np.sin(np.linspace(0, 2 * np.pi)), "k--", lw=0.8)
axes[0].set_title("rank-2 network: trajectories and the target cycle")
axes[0].set_aspect("equal")
axes[1].semilogy(np.arange(len(omp.mse_curve_)), omp.mse_curve_, "o-")
axes[1].set_xlabel("neurons")
axes[1].set_ylabel("MSE")
axes[1].set_title("OMP: error against network size")
axes[2].plot(zz[:, 0], bistable(zz)[:, 0], "k", lw=2, label="target g(z)")
axes[2].plot(zz[:, 0], omp.predict(zz, 5)[:, 0], "C3--", label="5 neurons")
axes[2].axhline(0, color="0.7", lw=0.8)
axes[2].legend()
axes[2].set_title("the 5-neuron fit")
plt.show()
