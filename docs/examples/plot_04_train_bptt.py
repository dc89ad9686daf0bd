"""
Training a low-rank RNN on a task
=================================

Backpropagation through time (PyTorch, the ``torch`` extra) of the same equation the rest of
the library simulates, on the binary decision task of "A new look at low-rank RNNs" (Sec 6): a
noisy stimulus of signed coherence, a delay, then the sign of the coherence as output. The
trained network converts to a :class:`~lowrank_rnn.network.LowRankRNN`, whose NumPy simulation
reproduces the PyTorch outputs.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from lowrank_rnn.fit.bptt import BPTTTrainer
from lowrank_rnn.plotting import plot_task_outputs
from lowrank_rnn.simulate import simulate
from lowrank_rnn.tasks import decision_trials

train = decision_trials(256, rng=0)
test = decision_trials(64, rng=1)
print("inputs", train.inputs.shape, "targets", train.targets.shape)  # (batch, time, channels)

# a rank-1 network of 32 neurons; the paper trains for hundreds of epochs
trainer = BPTTTrainer(32, rank=1, lr=2e-2, n_epochs=30, batch_size=64, random_state=0)
trainer.fit(train, validation=test)
print(f"test MSE: {trainer.score(test):.4f}")

# %%
# The same network as a LowRankRNN, simulated by the library's NumPy integrator.
net = trainer.to_network()
z_torch = trainer.predict(test.inputs)
z_numpy = simulate(net, test.inputs, trainer.initial_state(), dt=test.dt).z[:, 1:]
print("max |torch - numpy| output difference:", float(np.max(np.abs(z_torch - z_numpy))))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
h = trainer.history_
axes[0].semilogy(h["train_loss"], label="training")
axes[0].semilogy(h["val_loss"], label="validation")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("masked MSE")
axes[0].legend()
axes[0].set_title("BPTT, rank 1, N = 32")
t = np.arange(test.inputs.shape[1]) * test.dt
plot_task_outputs(axes[1], t, test.targets[0, :, 0], {"trained RNN": z_numpy[0, :, 0]},
                  mask=test.mask[0, :, 0])
axes[1].set_title("one test trial")
plt.show()
