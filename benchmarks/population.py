"""NEAT at population scale: graphbp against itself genome by genome, against neat-python, and Backprop-NEAT.

Run: ``PYTHONPATH=$PWD python benchmarks/population.py [--size tiny|full] [--repeats 3]``. Prints, in one
run, each figure measured side by side (ratios are medians of per-round ratios; times are medians):

1. neat's activations in the numba row kernel (z = h(a) and δ = h'(a)·g over a row): ns per number of
   each, and its ratio to graphbp's tanh timed just before it (target: each within 2x; tiny: two of them).
2. ``from_neat`` and ``to_neat`` per genome of a grown generation (ms).
3. One generation of grown genomes (seeded neat runs without selection, so they grow: 3-40 nodes; the
   range is printed), XOR, Adam x 20: ``train_many`` against a loop of ``graphbp.train`` over the same
   genomes (target: 20x faster, and 100 ms or less).
4. ``compile_many`` + ``loss_and_gradient`` (forward and gradient) on those genomes x 200 samples, against
   neat-python's own ``FeedForwardNetwork.create`` + ``activate`` loop (forward only) (target: 50x).
5. Backprop-NEAT on XOR (pop 150, fitness_threshold 3.9, ``refine_neat`` with Adam(0.1) x 20 per
   generation, fitness by neat's own network; seeds 1-3) against NEAT alone on the same seeds (target:
   solved in 10 generations or fewer, median, in less wall time than NEAT alone).
6. Backprop-NEAT on a two-arm spiral, at most 30 generations, stopping once the champion reaches
   accuracy 0.95 by neat's own network (fitness from refine_neat's losses, which are neat's network's to
   rounding) (target: accuracy 0.95 or more within 5 s, median of 3 seeds).

A table of every target closes the output: target, measured, pass/fail. The first refine_neat and
compile_many calls compile numba kernels; that time is printed apart and left out of the figures.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import neat
import numpy as np

import graphbp
from graphbp.datasets import spiral, xor
from graphbp.interop import NEAT_ACTIVATIONS, from_neat, neat_config, refine_neat, to_neat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from backprop_neat import evolve  # noqa: E402  (the example's loop: NEAT alone or with refine_neat)

SIZES = {
    # population, generations grown, samples of the compile_many comparison, seeds, NEAT-alone cap, spiral
    # generations, neat activations timed (each compiles its row kernels first: seconds apiece)
    "tiny": dict(pop=10, grow=3, samples=10, seeds=(1,), cap=2, spiral_generations=1, activations=("sigmoid", "sin")),
    "full": dict(pop=150, grow=42, samples=200, seeds=(1, 2, 3), cap=300, spiral_generations=30,
                 activations=tuple(NEAT_ACTIVATIONS)),
}


def seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


# -- 1. activations in the row kernel ----------------------------------------------------------------------


def activation_costs(activations, repeats: int, width: int = 4096) -> dict:
    """label -> (ns per number of h and h' over a row, ratio to tanh timed just before, ns of h alone, of h' alone)."""
    from graphbp.compiled.kernels_numba import row_kernels

    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 2.0, size=(1, width))
    z, delta, through = np.empty_like(a), np.empty_like(a), np.ones_like(a)

    def cost(name, parts=("h", "h'")) -> float:
        activate, scale = row_kernels(graphbp.get_activation(name))
        calls = max(1, 200_000 // width)
        start = time.perf_counter()
        for _ in range(calls):
            if "h" in parts:
                activate(a, z, 0, 0, width)
            if "h'" in parts:
                scale(a, z, through, delta, 0, 0, width)
        return (time.perf_counter() - start) / (calls * width) * 1e9

    names = {"tanh (graphbp)": "tanh", **{f"neat {name}": NEAT_ACTIVATIONS[name] for name in activations}}
    for spec in names.values():
        cost(spec)  # compile
    # Each activation timed right after tanh, so a busy moment of the machine tends to hit both of a pair.
    times = {label: [] for label in names}
    ratios = {label: [] for label in names}
    alone = {label: ([], []) for label in names}
    for _ in range(repeats):
        for label, spec in names.items():
            tanh = cost("tanh")
            times[label].append(cost(spec))
            ratios[label].append(times[label][-1] / tanh)
            alone[label][0].append(cost(spec, ("h",)))
            alone[label][1].append(cost(spec, ("h'",)))
    return {
        label: (statistics.median(times[label]), statistics.median(ratios[label]), *map(statistics.median, alone[label]))
        for label in names
    }


# -- 2.-4. one grown generation ----------------------------------------------------------------------------


def grown_genomes(pop: int, generations: int, seed: int = 0) -> tuple:
    """(config, genomes): `pop` XOR genomes of 3-40 nodes, spread over the sizes a seeded neat run grows to.

    The run scores every genome at random, so nothing selects against growth (every reproduction adds
    a node, some add a connection; one species, so speciation stays cheap); the genomes of every
    generation are pooled, and `pop` of them picked at evenly spaced ranks of their node counts.
    """
    config = neat_config(pop_size=max(pop // 3, 10), node_add_prob=1.0, conn_add_prob=0.3, node_delete_prob=0.05,
                         conn_delete_prob=0.1, compatibility_threshold=1e9, fitness_threshold=1e9)  # fmt: skip
    rng = np.random.default_rng(seed)
    pool = []

    def score(genomes, config):
        for _, genome in genomes:
            genome.fitness = float(rng.random())
        # neat mutates only new children, never a genome it already scored: the pool may hold them as they are
        pool.extend(genome for _, genome in genomes if len(genome.nodes) + 2 <= 40)

    neat.Population(config, seed=seed).run(score, generations)
    pool.sort(key=lambda genome: len(genome.nodes))
    picked = [pool[k] for k in np.linspace(0, len(pool) - 1, pop).round().astype(int)]
    return config, picked


def conversion_times(config, genomes, repeats: int) -> tuple[float, float]:
    """Median ms per genome of from_neat and of to_neat (a changed weight written back)."""
    from_times, to_times = [], []
    for _ in range(repeats):
        copies = copy.deepcopy(genomes)
        graphs = []
        from_times.append(seconds(lambda: graphs.extend(from_neat(g, config) for g in copies)))
        for G in graphs:
            G.nodes[0]["bias"] += 0.125
        to_times.append(seconds(lambda: [to_neat(G, g, config) for G, g in zip(graphs, copies)]))
    return 1e3 * statistics.median(from_times) / len(genomes), 1e3 * statistics.median(to_times) / len(genomes)


def train_many_against_train(config, genomes, repeats: int) -> tuple[float, float]:
    """(median ratio loop-of-train / train_many, median seconds of train_many): XOR, Adam(0.1) x 20."""
    x, t = xor()
    options = dict(optimizer=graphbp.Adam(0.1), epochs=20, progress=False)
    ratios, many = [], []
    for _ in range(repeats):
        graphs = [from_neat(g, config) for g in genomes]
        alone = [from_neat(g, config) for g in genomes]
        many.append(seconds(lambda: graphbp.train_many(graphs, x, t, **options)))
        looped = seconds(lambda: [graphbp.train(G, x, t, **options) for G in alone])
        ratios.append(looped / many[-1])
    return statistics.median(ratios), statistics.median(many)


def population_against_neat(config, genomes, samples: int, repeats: int) -> dict:
    """compile_many + loss_and_gradient against neat's create + activate loop, and where each one's time goes.

    Medians (seconds) of: ``ours`` (a fresh population compiled and its first pass), ``neat`` (its loop),
    ``ratio`` (of the two, per round), and the parts: ``compile`` (compile_many alone), ``first`` (the first
    pass of a fresh population), ``pass`` (a later pass), ``create`` (neat's ``create`` over the genomes alone).
    """
    rng = np.random.default_rng(1)
    x = rng.uniform(-1.0, 1.0, size=(samples, 2))
    t = rng.uniform(0.0, 1.0, size=(samples, 1))
    rows = x.tolist()

    def neat_forward():
        for genome in genomes:
            network = neat.nn.FeedForwardNetwork.create(genome, config)
            for row in rows:
                network.activate(row)

    figures = {name: [] for name in ("ours", "neat", "ratio", "compile", "first", "pass", "create")}
    for _ in range(repeats):
        graphs = [from_neat(g, config) for g in genomes]
        figures["ours"].append(seconds(lambda: graphbp.compile_many(graphs).loss_and_gradient(x, t)))
        figures["neat"].append(seconds(neat_forward))
        figures["ratio"].append(figures["neat"][-1] / figures["ours"][-1])
        graphs = [from_neat(g, config) for g in genomes]
        population = []
        figures["compile"].append(seconds(lambda: population.append(graphbp.compile_many(graphs))))
        figures["first"].append(seconds(lambda: population[0].loss_and_gradient(x, t)))
        figures["pass"].append(seconds(lambda: population[0].loss_and_gradient(x, t)))
        figures["create"].append(seconds(lambda: [neat.nn.FeedForwardNetwork.create(g, config) for g in genomes]))
    return {name: statistics.median(values) for name, values in figures.items()}


# -- 5.-6. Backprop-NEAT -------------------------------------------------------------------------------------


def xor_runs(seeds, pop: int, cap: int) -> dict:
    """Per method: generations and seconds of each seed (NEAT alone capped at `cap` generations)."""
    x, t = xor()
    runs = {"NEAT alone": [], "NEAT + refine_neat": []}
    for seed in seeds:
        for method, refine in (("NEAT alone", False), ("NEAT + refine_neat", True)):
            run = evolve(x, t, generations=cap, seed=seed, pop_size=pop, refine=refine, threshold=3.9)
            runs[method].append((run["generations"] if run["solved"] else None, run["seconds"]))
    return runs


def spiral_runs(seeds, pop: int, generations: int, refine: bool = True) -> list[tuple[float, int, float]]:
    """(champion's accuracy by neat's network, generations, seconds) per seed: (Backprop-)NEAT on a 2-arm spiral.

    Up to `generations` (30), stopping once the champion classifies 95 % of the 60 points right.
    """
    results = []
    for seed in seeds:
        x, t = spiral(60, classes=2, seed=seed)
        run = evolve(x, t, generations=generations, seed=seed, pop_size=pop, refine=refine, threshold=4.0,
                     target_accuracy=0.95, neat_fitness=not refine)  # fmt: skip
        results.append((run["accuracy"], run["generations"], run["seconds"]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=SIZES, default="full")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    size, repeats = SIZES[args.size], args.repeats
    targets = []

    print("1. neat activations in the numba row kernel (h and h' over a row of 4096 numbers)")
    costs = activation_costs(size["activations"], max(repeats, 7))
    for label, (ns, ratio, h, h_prime) in costs.items():
        print(f"   {label:18s} {ns:7.2f} ns/number   x{ratio:5.2f} of tanh   (h alone {h:5.2f} ns, h' alone {h_prime:5.2f} ns)")
    worst = max((ratio, label) for label, (_, ratio, *_) in costs.items() if label.startswith("neat"))
    targets.append(("every neat activation within 2x tanh (worst)", f"{worst[1]}: x{worst[0]:.2f}", worst[0] <= 2.0))

    config, genomes = grown_genomes(size["pop"], size["grow"])
    nodes = [len(g.nodes) + len(config.genome_config.input_keys) for g in genomes]
    print(f"\n{len(genomes)} grown genomes: {min(nodes)}-{max(nodes)} nodes (median {statistics.median(nodes):.0f}), "
          f"{sum(any(not c.enabled for c in g.connections.values()) for g in genomes)} with disabled connections")
    x, t = xor()
    warm = copy.deepcopy(genomes)
    print(f"   first refine_neat call (numba compiles the kernels): {seconds(lambda: refine_neat(warm, config, x, t)):.1f} s")

    from_ms, to_ms = conversion_times(config, genomes, repeats)
    print(f"2. from_neat {from_ms:.3f} ms per genome, to_neat {to_ms:.3f} ms per genome")

    ratio, many = train_many_against_train(config, genomes, repeats)
    print(f"3. XOR, Adam x 20: train_many {1e3 * many:.1f} ms for the generation, x{ratio:.1f} a loop of train")
    targets.append(("train_many >= 20x a loop of train", f"x{ratio:.1f}", ratio >= 20))
    targets.append(("train_many <= 100 ms per generation", f"{1e3 * many:.1f} ms", many <= 0.1))

    f = population_against_neat(config, genomes, size["samples"], max(repeats, 5))
    ms = {name: 1e3 * value for name, value in f.items()}
    print(f"4. {size['samples']} samples: compile_many + loss_and_gradient {ms['ours']:.1f} ms, neat create + activate "
          f"{ms['neat']:.1f} ms (forward only): x{f['ratio']:.1f}\n"
          f"   parts: compile_many {ms['compile']:.1f} ms ({ms['compile'] / len(genomes) * 1e3:.0f} us a genome), "
          f"first pass {ms['first']:.1f} ms, a later pass {ms['pass']:.1f} ms (x{f['neat'] / f['pass']:.0f} neat's "
          f"loop); neat's create alone {ms['create']:.1f} ms ({ms['create'] / len(genomes) * 1e3:.0f} us a genome)")
    targets.append(("compile_many + gradient >= 50x neat's forward", f"x{f['ratio']:.1f}", f["ratio"] >= 50))

    runs = xor_runs(size["seeds"], size["pop"], size["cap"])
    print("5. XOR, pop", size["pop"], "threshold 3.9, seeds", size["seeds"])
    for method, results in runs.items():
        shown = ", ".join(f"{'unsolved' if g is None else g} gen. {s:.2f} s" for g, s in results)
        print(f"   {method:18s} {shown}")
    generations = [g if g is not None else np.inf for g, _ in runs["NEAT + refine_neat"]]
    hybrid_s = statistics.median(s for _, s in runs["NEAT + refine_neat"])
    alone_s = statistics.median(s for _, s in runs["NEAT alone"])
    targets.append(("Backprop-NEAT XOR <= 10 generations (median)", f"{statistics.median(generations)}",
                    statistics.median(generations) <= 10))
    targets.append(("Backprop-NEAT XOR faster than NEAT alone", f"{hybrid_s:.2f} s vs {alone_s:.2f} s", hybrid_s < alone_s))

    print(f"6. spiral, at most {size['spiral_generations']} generations, seeds {size['seeds']}")
    for method, refine in (("NEAT alone", False), ("NEAT + refine_neat", True)):
        results = spiral_runs(size["seeds"], size["pop"], size["spiral_generations"], refine)
        print(f"   {method:18s} " + ", ".join(f"accuracy {a:.3f} after {g} gen. in {s:.2f} s" for a, g, s in results))
    best, spent = statistics.median(a for a, _, _ in results), statistics.median(s for _, _, s in results)
    targets.append(("spiral: accuracy >= 0.95 (median)", f"{best:.3f}", best >= 0.95))
    targets.append(("spiral: within 5 s (median)", f"{spent:.2f} s", spent <= 5.0))

    print("\n| target | measured | pass |\n|---|---|---|")
    for target, measured, passed in targets:
        print(f"| {target} | {measured} | {'pass' if passed else 'FAIL'} |")


if __name__ == "__main__":
    main()
