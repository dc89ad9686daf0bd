"""
Training a low-rank RNN on a task, saving and reloading it
==========================================================

Backpropagation through time (PyTorch, the ``torch`` extra) of the same equation the rest of
the library simulates, on the binary decision task of "A new look at low-rank RNNs" (Sec 6): a
noisy stimulus of signed coherence, a delay, then the sign of the coherence as output. The
trained network converts to a :class:`~lowrank_rnn.network.LowRankRNN`, which
:func:`lowrank_rnn.save` writes to one open file (no pickle) and :func:`lowrank_rnn.load` reads
back; the reloaded network, simulated by NumPy or wrapped as a
:class:`~lowrank_rnn.torch.LowRankModule`, reproduces the trained outputs.
"""

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import lowrank_rnn
from lowrank_rnn.fit.bptt import BPTTTrainer
from lowrank_rnn.plotting import plot_task_outputs
from lowrank_rnn.simulate import simulate
from lowrank_rnn.tasks import decision_trials
from lowrank_rnn.torch import LowRankModule

train = decision_trials(256, rng=0)
test = decision_trials(64, rng=1)
print("inputs", train.inputs.shape, "targets", train.targets.shape)  # (batch, time, channels)

# a rank-1 network of 32 neurons; the paper trains for hundreds of epochs
trainer = BPTTTrainer(32, rank=1, lr=2e-2, n_epochs=30, batch_size=64, random_state=0)
trainer.fit(train, validation=test)
print(f"test MSE: {trainer.score(test):.4f}")

# %%
# Save the trained network, load it back, and run it three ways.
net = trainer.to_network()
path = Path(tempfile.mkdtemp()) / "decision.npz"
lowrank_rnn.save(net, path)
print(lowrank_rnn.io.read_header(path)["type"], f"{path.stat().st_size} bytes")
loaded = lowrank_rnn.load(path)

z_torch = trainer.predict(test.inputs)
x0 = trainer.initial_state()
z_numpy = simulate(loaded, test.inputs, x0, dt=test.dt).z[:, 1:]
module = LowRankModule.from_network(loaded, dt=test.dt)
with torch.no_grad():
    z_module = module(torch.as_tensor(test.inputs, dtype=torch.float32),
                      torch.as_tensor(x0, dtype=torch.float32)).numpy()
print("max |trainer - reloaded, NumPy|:", float(np.max(np.abs(z_torch - z_numpy))))
print("max |trainer - reloaded, LowRankModule|:", float(np.max(np.abs(z_torch - z_module))))

# %%
fig, axes = plt.subplots(1, 2, layout="constrained", figsize=(11, 4))
h = trainer.history_
axes[0].semilogy(h["train_loss"], label="training")
axes[0].semilogy(h["val_loss"], label="validation")
axes[0].set_xlabel("epoch")
axes[0].set_ylabel("masked MSE")
axes[0].legend()
axes[0].set_title("BPTT, rank 1, N = 32")
t = np.arange(test.inputs.shape[1]) * test.dt
plot_task_outputs(axes[1], t, test.targets[0, :, 0],
                  {"trained": z_torch[0, :, 0], "reloaded (NumPy)": z_numpy[0, :, 0]},
                  mask=test.mask[0, :, 0])
axes[1].set_title("one test trial: trained and reloaded")
plt.show()
