"""Evolve XOR with neat-python, then refine the best genome's weights with graphbp's gradients.

NEAT finds a structure (hidden units, skip links) but tunes weights only by random mutation;
backpropagation on the same network tunes them by gradient. The fitness before and after is
neat's own: 4 − Σ (y − t)² over the four XOR points, computed by neat's FeedForwardNetwork.

    python examples/neat_xor.py [--seed 3] [--generations 30]
"""

import argparse

import neat
import numpy as np

import graphbp
from graphbp.datasets import xor
from graphbp.interop import from_neat, neat_config, to_neat

X, T = xor()


def fitness(genome, config) -> float:
    """neat-python's XOR fitness of `genome`, evaluated by neat's own network."""
    network = neat.nn.FeedForwardNetwork.create(genome, config)
    return 4.0 - sum((network.activate(list(x))[0] - t[0]) ** 2 for x, t in zip(X, T))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--generations", type=int, default=30)
    args = parser.parse_args()

    config = neat_config(fitness_threshold=3.99)       # neat-python's XOR example settings
    population = neat.Population(config, seed=args.seed)

    def evaluate(genomes, config):
        for _, genome in genomes:
            genome.fitness = fitness(genome, config)

    best = population.run(evaluate, args.generations)
    before = fitness(best, config)
    G = from_neat(best, config)
    hidden = len(graphbp.describe(G)["hidden"])
    print(f"NEAT, {population.generation} generations (seed {args.seed}): best genome {best.key} has {hidden} hidden "
          f"nodes and {G.number_of_edges()} enabled connections; fitness {before:.6f}")

    history = graphbp.train(G, X, T, loss="sse", optimizer="L-BFGS-B", epochs=200, progress=False)
    to_neat(G, best, config)                            # the refined weights and biases back into the genome
    after = fitness(best, config)
    outputs = np.array([neat.nn.FeedForwardNetwork.create(best, config).activate(list(x))[0] for x in X])
    print(f"graphbp.train (L-BFGS-B, {len(history.epoch) - 1} iterations) and to_neat: fitness {after:.6f}; "
          f"neat's outputs on (0,0), (0,1), (1,0), (1,1): {np.round(outputs, 4).tolist()}")


if __name__ == "__main__":
    main()
