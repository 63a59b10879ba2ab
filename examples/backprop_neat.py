"""Backprop-NEAT: NEAT searches the structures, graphbp trains every genome's weights each generation.

neat-python evolves a population of small networks; its weights move only by random mutation.
Here each generation, before it is scored, goes through ``graphbp.interop.refine_neat``: every
genome becomes a graph, all of them take a few Adam steps together (one compiled pass over the
generation per step) and the trained weights are written back into the genomes (Lamarckian).
The fitness is neat's own: its ``FeedForwardNetwork`` of each genome, 4 · (1 − Σ_n Σ_k (y − t)² / N)
(neat-python's XOR fitness 4 − Σ (y − t)² where N = 4). NEAT alone and NEAT + refine_neat run on the
same tasks and seeds; the champion of the last run is drawn with its δ (``graphbp.draw``, a PNG) and
written as an interactive explorer page (``graphbp.write_html``, an HTML file; no browser is started).

    python examples/backprop_neat.py [--task xor|circles|spiral|all] [--generations 30] [--seed 1]
                                     [--pop-size 150] [--epochs 20] [--samples 60] [--out DIR]

Small settings run in seconds: ``--task xor --generations 3 --pop-size 20``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import neat
import numpy as np

import graphbp
from graphbp.datasets import circles, spiral, xor
from graphbp.interop import from_neat, neat_config, refine_neat

#: task -> (its data for a seed and a number of samples, neat's fitness threshold: stop once reached)
TASKS = {
    "xor": (lambda seed, n: xor(), 3.9),
    "circles": (lambda seed, n: circles(n, noise=0.05, seed=seed), 3.9),
    "spiral": (lambda seed, n: spiral(n, classes=2, seed=seed), 3.9),
}


def neat_outputs(genome, config, x) -> np.ndarray:
    """y of neat's own network of `genome` on every row of `x`, shape (N, outputs)."""
    network = neat.nn.FeedForwardNetwork.create(genome, config)
    return np.array([network.activate(row) for row in x.tolist()])


def fitness(y, t) -> float:
    """4 · (1 − Σ_n Σ_k (y_nk − t_nk)² / N): neat-python's XOR fitness 4 − Σ (y − t)² for any N."""
    return 4.0 * (1.0 - float(((y - t) ** 2).sum()) / len(t))


def accuracy(y, t) -> float:
    """The share of samples classified right: y > 0.5 for one output, the largest output for several."""
    if t.shape[1] == 1:
        return float(np.mean((y[:, 0] > 0.5) == (t[:, 0] > 0.5)))
    return float(np.mean(y.argmax(axis=1) == t.argmax(axis=1)))


def evolve(x, t, *, generations: int, seed: int, pop_size: int = 150, epochs: int = 20, refine: bool = True,
           threshold: float = 3.9, target_accuracy: float | None = None, learning_rate: float = 0.1,
           neat_fitness: bool = True) -> dict:
    """Run NEAT (and refine_neat each generation when `refine`); the champion, its scores and the time taken.

    Stops after `generations`, or once the champion's fitness reaches `threshold` (neat's own test) or
    its accuracy `target_accuracy`. With ``neat_fitness=False`` (and `refine`) the fitness comes from
    refine_neat's losses instead of neat's network: the mean ½ Σ_k (y − t)² of each written-back genome,
    which neat's network computes to rounding, so the same number without a Python loop over the samples.
    """
    config = neat_config(num_inputs=x.shape[1], num_outputs=t.shape[1], pop_size=pop_size, fitness_threshold=threshold)
    population = neat.Population(config, seed=seed)

    def evaluate(genomes, config):
        if refine:
            losses = refine_neat(genomes, config, x, t, optimizer=graphbp.Adam(learning_rate), epochs=epochs)
            if not neat_fitness:
                for (_, genome), loss in zip(genomes, losses):
                    genome.fitness = 4.0 * (1.0 - 2.0 * float(loss))
                return
        for _, genome in genomes:
            genome.fitness = fitness(neat_outputs(genome, config, x), t)

    start = time.perf_counter()
    for evaluated in range(1, generations + 1):
        champion = population.run(evaluate, 1)   # one generation; the best genome seen so far
        y = neat_outputs(champion, config, x)
        solved = fitness(y, t) >= threshold or (target_accuracy is not None and accuracy(y, t) >= target_accuracy)
        if solved:
            break
    return {
        "config": config, "champion": champion, "generations": evaluated, "seconds": time.perf_counter() - start,
        "fitness": fitness(y, t), "accuracy": accuracy(y, t), "solved": solved,
    }


def show_champion(run: dict, x, t, out: Path, name: str) -> tuple[Path, Path]:
    """The champion's network drawn with its δ on sample 0 (PNG) and its explorer page (HTML)."""
    import matplotlib.pyplot as plt

    G = from_neat(run["champion"], run["config"])
    result = graphbp.backprop(G, x, t)
    out.mkdir(parents=True, exist_ok=True)
    figure, ax = plt.subplots(figsize=(7, 5))
    graphbp.draw(G, result, ax=ax)
    ax.set_title(f"{name}: champion after {run['generations']} generations, δ of sample 0")
    png = out / f"backprop_neat_{name}.png"
    figure.savefig(png, dpi=100, bbox_inches="tight")
    plt.close(figure)
    html = graphbp.write_html(G, result, out / f"backprop_neat_{name}.html", title=f"Backprop-NEAT champion: {name}")
    return png, Path(html)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=[*TASKS, "all"], default="all")
    parser.add_argument("--generations", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pop-size", type=int, default=150)
    parser.add_argument("--epochs", type=int, default=20, help="Adam steps per genome and generation")
    parser.add_argument("--samples", type=int, default=60, help="points of circles and spiral")
    parser.add_argument("--out", type=Path, default=Path("backprop_neat_out"), help="folder of the PNG and HTML")
    args = parser.parse_args()

    xor_x, xor_t = xor()
    start = time.perf_counter()   # numba compiles the population kernels once per process: not in the runs' times
    warm = neat_config(pop_size=2)
    refine_neat(neat.Population(warm, seed=0).population, warm, xor_x, xor_t, epochs=1)
    print(f"(first refine_neat call, compiling: {time.perf_counter() - start:.1f} s)")
    print(f"{'task':8s} {'method':18s} {'generations':>11s} {'fitness':>8s} {'accuracy':>8s} {'seconds':>8s}")
    for name in TASKS if args.task == "all" else [args.task]:
        data, threshold = TASKS[name]
        x, t = data(args.seed, args.samples)
        for refine in (False, True):
            run = evolve(x, t, generations=args.generations, seed=args.seed, pop_size=args.pop_size,
                         epochs=args.epochs, refine=refine, threshold=threshold)
            method = "NEAT + refine_neat" if refine else "NEAT alone"
            print(f"{name:8s} {method:18s} {run['generations']:11d} {run['fitness']:8.4f} {run['accuracy']:8.3f} "
                  f"{run['seconds']:8.2f}")
        png, html = show_champion(run, x, t, args.out, name)
        print(f"{name:8s} champion drawn: {png}, explorer: {html}")


if __name__ == "__main__":
    main()
