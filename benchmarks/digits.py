"""A real data set on a random DAG: scikit-learn's digits on a Watts-Strogatz network of 300 tanh units.

The network is ``graphbp.random_dag(300, "watts_strogatz", k=4, p=0.75)`` with the 64 pixels as
inputs (they feed the DAG's sources) and a softmax group of 10 outputs (fed by its sinks). It is
trained through the compiled engine: ``CompiledNetwork.loss_and_gradient`` gives E and ∂E/∂θ for the
whole training set, scipy's L-BFGS-B takes the steps, on the mean cross-entropy plus a small weight
decay ½λ‖w‖² (λ = 1e-4; without it the network fits the training set exactly and loses about a
point of held-out accuracy). A quarter of the 1,797 images, drawn at random, is held out.

    python benchmarks/digits.py                         # accuracy and time for seed 0
    python benchmarks/digits.py --seeds 0 1 2 3 4       # several DAGs
    python benchmarks/digits.py --figure figures/digits_delta.png   # and the δ of one misclassified digit

Times include compiling the network (numba's kernels come from its on-disk cache after the first
run) and every gradient evaluation; they are wall-clock seconds on this machine, threads = all cores.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import minimize

import graphbp
from graphbp.datasets import digits

HIDDEN, K, P = 300, 4, 0.75
WEIGHT_DECAY = 1e-4
ITERATIONS = 150
HELD_OUT = 0.25


def build(seed: int):
    return graphbp.random_dag(HIDDEN, "watts_strogatz", k=K, p=P, n_inputs=64, n_outputs=10,
                              output_activation="softmax", seed=seed)


def fit_compiled(G, x, t, weight_decay: float = WEIGHT_DECAY, iterations: int = ITERATIONS):
    """Train `G` in place by L-BFGS-B on the compiled engine: mean cross-entropy + ½λ‖w‖² (biases free)."""
    net = graphbp.compile(G)
    n_weights, n_samples = net.wiring.n_edges, len(x)

    def objective(theta):
        net.set_parameters(theta)
        error, gradient = net.loss_and_gradient(x, t, loss="ce")
        weights = theta[:n_weights]
        gradient = gradient / n_samples
        gradient[:n_weights] += weight_decay * weights
        return error / n_samples + 0.5 * weight_decay * weights @ weights, gradient

    result = minimize(objective, net.get_parameters(), jac=True, method="L-BFGS-B", options={"maxiter": iterations})
    net.set_parameters(result.x).write_back()
    return result


def run(seed: int):
    x, t = digits(seed=0)   # one fixed random order: the same held-out images for every DAG seed
    n_test = int(round(HELD_OUT * len(x)))
    x_train, t_train, x_test, t_test = x[n_test:], t[n_test:], x[:n_test], t[:n_test]
    start = time.perf_counter()
    G = build(seed)
    result = fit_compiled(G, x_train, t_train)
    seconds = time.perf_counter() - start
    return G, (x_test, t_test), {
        "seed": seed, "nodes": G.number_of_nodes(), "edges": G.number_of_edges(),
        "accuracy": graphbp.accuracy(G, x_test, t_test), "train_accuracy": graphbp.accuracy(G, x_train, t_train),
        "seconds": seconds, "iterations": result.nit, "evaluations": result.nfev,
    }


def draw_misclassified(G, x_test, t_test, path: str, labelled: int = 12):
    """The trained DAG coloured by δ_j for one misclassified test digit; the `labelled` largest |δ| named."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.colors import SymLogNorm

    predicted = graphbp.forward(G, x_test).y.argmax(axis=1)
    wrong = np.flatnonzero(predicted != t_test.argmax(axis=1))
    n = int(wrong[0])
    result = graphbp.backprop(G, x_test[n], t_test[n], loss="ce")
    delta = {node: result.delta[node] for node in G}
    pos = graphbp.layout(G, sweeps=2)
    inputs, outputs = G.graph["inputs"], G.graph["outputs"]
    units = [node for node in G if node not in inputs]   # the units δ is drawn for
    figure = plt.figure(figsize=(13, 7.5))
    ax = figure.add_axes([0.0, 0.08, 0.74, 0.84])
    segments = np.array([[pos[i], pos[j]] for i, j in G.edges])
    ax.add_collection(LineCollection(segments, colors="0.75", linewidths=0.25, alpha=0.35, zorder=0))
    pixels = np.array([pos[node] for node in inputs])
    ax.scatter(pixels[:, 0], pixels[:, 1], c=x_test[n], cmap="gray_r", vmin=0, vmax=1, s=18, marker="s",
               edgecolors="0.5", linewidths=0.3, zorder=2)
    values = np.array([delta[node] for node in units])
    top = float(abs(values).max())
    norm = SymLogNorm(linthresh=top * 1e-3, vmin=-top, vmax=top)
    xy = np.array([pos[node] for node in units])
    drawn = ax.scatter(xy[:, 0], xy[:, 1], c=values, s=8 + 110 * np.sqrt(abs(values) / top), cmap="RdBu_r",
                       norm=norm, edgecolors="0.3", linewidths=0.3, zorder=2)
    hidden = [node for node in units if node not in outputs]
    for node in sorted(hidden, key=lambda node: -abs(delta[node]))[:labelled]:
        ax.annotate(f"{node}: {delta[node]:+.2g}", pos[node], xytext=(4, 4), textcoords="offset points",
                    fontsize=7, zorder=3, bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    for k, node in enumerate(outputs):
        ax.annotate(f"digit {k}: y={result.y[k]:.2f}, δ={delta[node]:+.2f}", pos[node], xytext=(6, -2.5),
                    textcoords="offset points", fontsize=6.5)
    ax.margins(x=0.12)
    ax.set_axis_off()
    figure.suptitle(
        f"Digits on a Watts-Strogatz DAG ({len(hidden)} tanh units, {G.number_of_edges()} edges, depth "
        f"{len(set(x for x, _ in pos.values())) - 1}): δ_j = ∂E_n/∂a_j for held-out digit #{n}, a "
        f"{t_test[n].argmax()} read as {predicted[n]}\nleft: the 64 pixels; colour and size: δ; named: the "
        f"{labelled} hidden units with the largest |δ|",
        fontsize=10,
    )
    bar = figure.add_axes([0.12, 0.06, 0.45, 0.018])
    ticks = [sign * 10.0**power for sign in (-1, 1) for power in range(int(np.floor(np.log10(top))), -3, -1)]
    figure.colorbar(drawn, cax=bar, orientation="horizontal", ticks=sorted([0.0, *ticks]),
                    format=lambda value, _: f"{value:g}", label="δ (symmetric log scale)")
    image = figure.add_axes([0.78, 0.52, 0.19, 0.32])
    image.imshow(x_test[n].reshape(8, 8), cmap="gray_r")
    image.set_title(f"target {t_test[n].argmax()}, predicted {predicted[n]}", fontsize=9)
    image.set_axis_off()
    bars = figure.add_axes([0.79, 0.1, 0.18, 0.3])
    bars.bar(range(10), result.y, color=["tab:red" if k == predicted[n] else "tab:blue" for k in range(10)])
    bars.set_xticks(range(10))
    bars.set_title("softmax outputs y_k (δ_k = y_k − t_k)", fontsize=9)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="DAG seeds (default 0)")
    parser.add_argument("--figure", help="draw the δ of one misclassified held-out digit (first seed) here")
    args = parser.parse_args()
    for seed in args.seeds:
        G, (x_test, t_test), row = run(seed)
        print(f"seed {row['seed']}: {row['nodes']} nodes, {row['edges']} edges; held-out accuracy "
              f"{row['accuracy']:.2%} (training {row['train_accuracy']:.2%}); {row['seconds']:.1f} s for "
              f"{row['iterations']} L-BFGS-B iterations, {row['evaluations']} gradient evaluations", flush=True)
        if args.figure and seed == args.seeds[0]:
            print(f"wrote {args.figure} (held-out digit #{draw_misclassified(G, x_test, t_test, args.figure)})")


if __name__ == "__main__":
    main()
