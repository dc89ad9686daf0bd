"""
Dissecting a trained network into populations, and resampling it
================================================================

A trained low-rank network is a cloud of points in loading space, one per neuron. Fitting a
Gaussian mixture to it (Beiran et al. 2021; Dubreuil et al. 2022) gives populations whose
statistics are enough to rebuild the computation: networks of any size drawn from the mixture
should still perform the task. Here a rank-1 network trained on the binary decision task is
dissected (the number of populations chosen by BIC), and resampled at its own size and at four
times it.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from lowrank_rnn.fit.bptt import BPTTTrainer
from lowrank_rnn.fit.populations import fit_populations, network_loadings, resampled_scores
from lowrank_rnn.plotting.populations import plot_loadings
from lowrank_rnn.simulate import simulate
from lowrank_rnn.tasks import decision_trials

train, test = decision_trials(256, rng=0), decision_trials(128, rng=1)
trainer = BPTTTrainer(64, rank=1, lr=2e-2, n_epochs=30, batch_size=64, random_state=0)
net = trainer.fit(train, validation=test).to_network()


def test_mse(network) -> float:
    """Masked mean squared error of a network on the test trials, from rest."""
    x0 = np.zeros((test.inputs.shape[0], network.n_neurons))
    z = simulate(network, test.inputs, x0, dt=test.dt).z[:, 1:]
    return float(np.mean(((z - test.targets) ** 2)[test.mask]))


# %%
pm = fit_populations(net, "bic", max_populations=4, rng=0)
print("populations chosen by BIC:", pm.n_populations_, {p: round(b) for p, b in pm.bic_.items()})
original = test_mse(net)
same = resampled_scores(pm.mixture_, net.n_neurons, test_mse, draws=6, rng=1)
larger = resampled_scores(pm.mixture_, 4 * net.n_neurons, test_mse, draws=6, rng=2)
print(f"test MSE: trained {original:.3f}, resampled at N = 64: {same.mean():.3f}, "
      f"at N = 256: {larger.mean():.3f}")

# %%
# A resample of the trained size is a new draw of 64 neurons: its finite-size fluctuations
# around the population statistics often break the computation, so its error varies widely.
# At four times the size the resampled networks come close to the trained one: the populations,
# not the individual neurons, carry the computation.
X, dims = network_loadings(net)  # columns (m, n, I, w) in mean-field units
fig, axes = plt.subplots(1, 2, layout="constrained", figsize=(10, 4))
plot_loadings(axes[0], X[:, 0], X[:, 1], pm.labels_, xlabel="m", ylabel="n")
axes[0].set_title(f"loadings of the trained network, {pm.n_populations_} populations")
axes[1].boxplot([same, larger], tick_labels=["N = 64", "N = 256"])
axes[1].axhline(original, color="C3", label="trained network")
axes[1].set_ylabel("test MSE")
axes[1].set_title("networks resampled from the populations")
axes[1].legend()
plt.show()
