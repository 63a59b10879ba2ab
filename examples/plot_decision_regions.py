"""
Decision regions
================

Two moons and circles learnt by a 2-8-1 network (Adam, mini-batches of 20), and the 3-class
spiral by a randomly wired Watts-Strogatz DAG of 30 tanh units with a softmax output (L-BFGS-B).
"""

import matplotlib.pyplot as plt

import graphbp
from graphbp.datasets import circles, spiral, two_moons
from graphbp.training_plots import plot_decision_regions

adam = {"optimizer": graphbp.Adam(0.02), "epochs": 200, "batch_size": 20, "seed": 0}
tasks = [
    ("two moons, 2-8-1", two_moons(200, seed=0), graphbp.mlp([2, 8, 1], output_activation="logistic", seed=0),
     "bce", adam),
    ("circles, 2-8-1", circles(200, seed=0), graphbp.mlp([2, 8, 1], output_activation="logistic", seed=0),
     "bce", adam),
    ("spiral, random DAG of 30 units", spiral(300, seed=0),
     graphbp.random_dag(30, "watts_strogatz", n_outputs=3, output_activation="softmax", seed=9), "ce",
     {"optimizer": "L-BFGS-B", "epochs": 400}),
]
fig, axes = plt.subplots(1, 3, figsize=(13, 4.6))
for ax, (name, (x, t), G, loss, options) in zip(axes, tasks):
    graphbp.train(G, x, t, loss=loss, progress=False, **options)
    plot_decision_regions(G, x, t, ax=ax)
    ax.set_title(f"{name}\ntraining accuracy {graphbp.accuracy(G, x, t):.1%}", fontsize=9)
fig.tight_layout()
