"""Train the networks of the README's training figures, print what they reach and how long it takes.

Prints, per task (the tasks of graphbp.cli.gallery), the final mean loss (and MSE or accuracy), the
gradient evaluations and the seconds; how many of several seeds succeed (XOR, spiral); L-BFGS-B
against plain gradient descent for the same budget of gradient evaluations. The figures themselves
are drawn by ``graphbp demo`` (graphbp.cli.gallery).

    python benchmarks/training.py             # about a minute on 2 cores
"""

import time

import numpy as np

from graphbp import GradientDescent, accuracy, forward, from_edges, mlp, random_dag, train
from graphbp.datasets import BISHOP_FIG53_FUNCTIONS, bishop_fig53, spiral, xor
from graphbp.cli.gallery import FIG53_TRAINING, classification_tasks


def timed_train(G, x, t, **options):
    start = time.perf_counter()
    history = train(G, x, t, progress=False, **options)
    return history, time.perf_counter() - start


def report(task, G, history, seconds, score):
    print(f"{task:58} {G.number_of_edges():>5} {history.loss[-1]:>11.3e} {score:>16} "
          f"{history.evaluations[-1]:>6} {seconds:>7.2f}")


def figure_5_3() -> None:
    for kind in BISHOP_FIG53_FUNCTIONS:
        x, t = bishop_fig53(kind, n=50, seed=0)
        G = mlp([1, 3, 1], seed=0)
        history, seconds = timed_train(G, x, t, **FIG53_TRAINING)
        mse = float(np.mean((forward(G, x).y - t) ** 2))
        report(f"Fig. 5.3 {kind:9} 1-3-1 tanh, L-BFGS-B", G, history, seconds, f"MSE {mse:.2e}")


def decision_regions() -> None:
    for name, (x, t), G, loss, options in classification_tasks():
        history, seconds = timed_train(G, x, t, loss=loss, **options)
        report(name.replace("\n", " "), G, history, seconds, f"accuracy {accuracy(G, x, t):.1%}")


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
