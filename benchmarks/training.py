"""Train the networks of tests/test_train.py, print what they reach and how long it takes, draw the figures.

Prints, per task, the final mean loss (and MSE or accuracy), the gradient evaluations and the
seconds; how many of several seeds succeed (XOR, spiral); L-BFGS-B against plain gradient descent
for the same budget of gradient evaluations. Writes figures/bishop_fig53.png and
figures/decision_regions.png (README, "Train it").

    python benchmarks/training.py             # about a minute on 2 cores
"""

import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from graphbp import Adam, GradientDescent, accuracy, forward, from_edges, mlp, random_dag, train  # noqa: E402
from graphbp.datasets import BISHOP_FIG53_FUNCTIONS, bishop_fig53, circles, spiral, two_moons, xor  # noqa: E402
from graphbp.training_plots import plot_decision_regions, plot_fit  # noqa: E402

FIGURES = Path(__file__).resolve().parents[1] / "figures"


def timed_train(G, x, t, **options):
    start = time.perf_counter()
    history = train(G, x, t, progress=False, **options)
    return history, time.perf_counter() - start


def report(task, G, history, seconds, score):
    print(f"{task:58} {G.number_of_edges():>5} {history.loss[-1]:>11.3e} {score:>16} "
          f"{history.evaluations[-1]:>6} {seconds:>7.2f}")


def figure_5_3() -> None:
    fig, axes = plt.subplots(2, 2, figsize=(9, 7), sharex=True)
    titles = {"square": "$t = x^2$", "sin": "$t = \\sin(x)$", "abs": "$t = |x|$", "heaviside": "$t = H(x)$"}
    for ax, kind in zip(axes.ravel(), BISHOP_FIG53_FUNCTIONS):
        x, t = bishop_fig53(kind, n=50, seed=0)
        G = mlp([1, 3, 1], seed=0)
        history, seconds = timed_train(G, x, t, optimizer="L-BFGS-B", epochs=1000)
        mse = float(np.mean((forward(G, x).y - t) ** 2))
        report(f"Fig. 5.3 {kind:9} 1-3-1 tanh, L-BFGS-B", G, history, seconds, f"MSE {mse:.2e}")
        plot_fit(G, x, t, ax=ax)
        ax.set_title(f"{titles[kind]}   (training MSE {mse:.1e})", fontsize=10)
        if kind in ("square", "sin"):
            ax.set_xlabel("")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle("Bishop PRML Figure 5.3: a 1-3-1 tanh network fitted to 50 points; dashed: the 3 hidden units",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    fig.savefig(FIGURES / "bishop_fig53.png", dpi=80)
    plt.close(fig)


def decision_regions() -> None:
    # Adam with mini-batches stops at smooth boundaries; L-BFGS-B drives the moons and circles to
    # zero loss with needlessly sharp ones.
    adam = {"optimizer": Adam(0.02), "epochs": 200, "batch_size": 20, "seed": 0}
    tasks = [
        ("two moons, 2-8-1 tanh/logistic, Adam", two_moons(200, seed=0),
         mlp([2, 8, 1], output_activation="logistic", seed=0), "bce", adam),
        ("circles, 2-8-1 tanh/logistic, Adam", circles(200, seed=0),
         mlp([2, 8, 1], output_activation="logistic", seed=0), "bce", adam),
        ("spiral, Watts-Strogatz DAG of 30 units,\nsoftmax, L-BFGS-B", spiral(300, seed=0),
         random_dag(30, "watts_strogatz", n_outputs=3, output_activation="softmax", seed=9), "ce",
         {"optimizer": "L-BFGS-B", "epochs": 400}),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.6))
    for ax, (name, (x, t), G, loss, options) in zip(axes, tasks):
        history, seconds = timed_train(G, x, t, loss=loss, **options)
        score = accuracy(G, x, t)
        report(name.replace("\n", " "), G, history, seconds, f"accuracy {score:.1%}")
        plot_decision_regions(G, x, t, ax=ax)
        ax.set_title(f"{name}\ntraining accuracy {score:.1%}", fontsize=9)
    fig.tight_layout()
    fig.savefig(FIGURES / "decision_regions.png", dpi=80)
    plt.close(fig)


def seeds() -> None:
    print("\nHow many seeds succeed:")
    x, t = xor(signed=True)
    solved = 0
    for seed in range(20):
        G = mlp([2, 2, 1], seed=seed)
        train(G, x, t, optimizer="L-BFGS-B", epochs=500, progress=False)
        solved += accuracy(G, x, t) == 1.0
    print(f"  XOR (±1 inputs), 2-2-1 tanh, sse, L-BFGS-B 500 it.: {solved}/20 seeds reach 100 %")
    x, t = xor()
    edges = [("x1", "h"), ("x2", "h"), ("x1", "y"), ("x2", "y"), ("h", "y")]
    solved = 0
    for seed in range(20):
        G = from_edges(edges, seed=seed)
        train(G, x, t, optimizer="L-BFGS-B", epochs=500, progress=False)
        solved += accuracy(G, x, t) == 1.0
    print(f"  XOR (0/1 inputs), 2-1-1 with skip connections:       {solved}/20 seeds reach 100 %")
    x, t = spiral(300, seed=0)
    reached = []
    for seed in range(10):
        G = random_dag(30, "watts_strogatz", n_outputs=3, output_activation="softmax", seed=seed)
        train(G, x, t, loss="ce", optimizer="L-BFGS-B", epochs=400, progress=False)
        reached.append(accuracy(G, x, t))
    print(f"  spiral, WS DAG of 30 units, L-BFGS-B 400 it.: {sum(a >= 0.95 for a in reached)}/10 seeds "
          f"reach ≥ 95 % (accuracies {', '.join(f'{a:.0%}' for a in reached)})")


def lbfgs_against_gd(budget: int = 60) -> None:
    x, t = bishop_fig53("sin", seed=0)
    lbfgs = train(mlp([1, 3, 1], seed=1), x, t, optimizer="L-BFGS-B", max_evaluations=budget, progress=False)
    print(f"\nsin fit, 1-3-1, {budget} gradient evaluations: L-BFGS-B mean loss {lbfgs.loss[-1]:.2e}", end="")
    for rate in (0.1, 0.3, 1.0, 3.0):
        gd = train(mlp([1, 3, 1], seed=1), x, t, optimizer=GradientDescent(rate), max_evaluations=budget,
                   progress=False)
        print(f"; GD η={rate}: {gd.loss[-1]:.2e}", end="")
    print()


def main() -> None:
    print(f"{'task':58} {'edges':>5} {'mean loss':>11} {'score':>16} {'evals':>6} {'seconds':>7}")
    figure_5_3()
    decision_regions()
    seeds()
    lbfgs_against_gd()


if __name__ == "__main__":
    main()
