"""
δ before and after training
===========================

The same 2-3-1 network on XOR before and after training, every node labelled with its δ for one
sample on one colour scale: training drives E, and with it every δ_j = ∂E_n/∂a_j, to zero.
"""

import copy

import matplotlib.pyplot as plt

import graphbp
from graphbp.datasets import xor
from graphbp.training_plots import plot_deltas_before_after

x, t = xor(signed=True)
G = graphbp.mlp([2, 3, 1], seed=0)
before = copy.deepcopy(G)
graphbp.train(G, x, t, optimizer="L-BFGS-B", epochs=200, progress=False)
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
plot_deltas_before_after(before, G, x, t, sample=1, axes=axes)
