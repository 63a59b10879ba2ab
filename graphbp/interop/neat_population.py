"""A NEAT generation refined by backpropagation: :func:`refine_neat`.

NEAT (neat-python) searches structures; its weights move only by random
mutation. Backprop-NEAT refines each genome's weights by gradient descent
before it is scored: every genome of a generation becomes a graph
(:func:`~graphbp.interop.from_neat`), all of them train together in one
population (:func:`graphbp.train_many`, one pass over the generation per step
instead of one per genome) and the refined weights go back into the genomes
(as :func:`~graphbp.interop.to_neat` writes them: Lamarckian evolution), or only the refined
losses are returned (Baldwinian: the genomes stay as they were).
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext

import numpy as np

from ..exceptions import GraphBPError
from .neat_genome import from_neat, genome_config_of, genome_edges, write_parameters

__all__ = ["refine_neat"]



def _keyed(genomes) -> list[tuple]:
    """(key, genome) for each genome: neat's ``(key, genome)`` pairs, a ``{key: genome}`` dict or plain genomes."""
    if isinstance(genomes, dict):
        return list(genomes.items())
    keyed = []
    for item in genomes:
        if isinstance(item, tuple) and len(item) == 2 and hasattr(item[1], "connections"):
            keyed.append(item)
        elif hasattr(item, "connections") and hasattr(item, "nodes"):
            keyed.append((getattr(item, "key", len(keyed)), item))
        else:
            raise GraphBPError(
                f"item {len(keyed)} of genomes is {type(item).__name__}, neither a neat genome nor a (key, genome) pair"
            )
    return keyed


@contextmanager
def _naming(key):
    """Errors raised inside name the genome `key` (same exception class)."""
    try:
        yield
    except GraphBPError as error:
        raise type(error)(f"genome {key!r}: {error}") from None


def _one_blas_thread(optimizer):
    """BLAS held to one thread for a scipy method (its small vector products gain nothing from threads); else nothing."""
    from ..training import SCIPY_METHODS

    if not (isinstance(optimizer, str) and optimizer.upper() in SCIPY_METHODS):
        return nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the extras graphbp[fast] / [test] install it; without it BLAS keeps its own threads
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def refine_neat(
    genomes,
    config,
    x,
    t,
    loss="sum_of_squares",
    optimizer="adam",
    epochs: int = 20,
    write_back: bool = True,
    *,
    batch_size: int | None = None,
    seed=None,
    activations: dict | None = None,
    backend: str = "auto",
    progress: bool = False,
) -> np.ndarray:
    """Train every genome of a NEAT generation by backpropagation at once; write the weights back or not.

    Each genome is read as :func:`~graphbp.interop.from_neat` reads it and
    trained as ``graphbp.train(G, x, t, loss, optimizer, epochs=epochs, ...)``
    would train it alone (:func:`graphbp.train_many`: one compiled pass over
    the whole generation per step). With ``write_back=True`` (Lamarckian)
    the refined weights and biases are written into the genomes
    (:func:`~graphbp.interop.to_neat`), so neat's ``FeedForwardNetwork`` of
    each genome computes its refined network; with ``write_back=False``
    (Baldwinian) no genome is touched and only the losses are returned.
    Genomes come as neat gives them: disabled connections, nodes that feed
    no output, outputs no input reaches (their placeholder edges stay 0,
    see :func:`~graphbp.interop.from_neat`).

    Parameters
    ----------
    genomes : list of genomes, list of (key, genome) pairs, or dict key -> genome
        neat-python genomes: the ``genomes`` list an ``eval_genomes(genomes,
        config)`` callback receives, ``population.population`` or its
        ``.items()``, or plain genomes (then named by ``genome.key``).
    config : neat.Config or its ``genome_config``
    x, t : array_like
        Inputs (N, num_inputs) and targets (N, num_outputs), shared by every genome.
    loss : str, default "sum_of_squares"
        As :func:`graphbp.train`.
    optimizer : optimizer object or str, default "adam"
        As :func:`graphbp.train`; ``"adam"``, ``"gd"``, ``"momentum"`` and
        :class:`~graphbp.Adam` / :class:`~graphbp.GradientDescent` objects
        step the whole generation together. A scipy method (``"L-BFGS-B"``,
        ...) trains the genomes one after another, with BLAS held to one
        thread (threadpoolctl, where installed).
    epochs : int, default 20
        Epochs (scipy: iterations) per genome.
    write_back : bool, default True
        Write the refined weights and biases into the genomes (Lamarckian);
        False leaves every genome bit for bit as it was (Baldwinian).
    batch_size, seed, backend, progress
        As :func:`graphbp.train_many`.
    activations : dict, optional
        As :func:`~graphbp.interop.from_neat`, for activations added to neat's config.

    Returns
    -------
    numpy.ndarray
        Each genome's training loss after refinement, in the order given:
        the mean E_n over the samples of `x` (``History.loss[-1]`` of
        :func:`graphbp.train`; for the sum of squares ½ Σ_k (y_k − t_k)²
        averaged over the samples).

    Raises
    ------
    GraphBPError
        An empty generation; an item that is neither a genome nor a (key,
        genome) pair; a genome graphbp cannot read (the error of
        :func:`~graphbp.interop.from_neat`, the genome's key named); a
        genome whose outputs or inputs differ from the others' or whose
        training fails (bad `x`/`t`, a loss it does not fit, a non-finite
        value: the genome's key named).

    Examples
    --------
    >>> import neat, graphbp
    >>> from graphbp.interop import neat_config, refine_neat
    >>> config = neat_config(pop_size=10)
    >>> population = neat.Population(config, seed=0)
    >>> x, t = graphbp.datasets.xor()
    >>> losses = refine_neat(population.population.items(), config, x, t, optimizer=graphbp.Adam(0.1), epochs=20)
    >>> losses.shape
    (10,)

    Written back: neat's own network of the first genome has the refined loss.

    >>> genome = next(iter(population.population.values()))
    >>> network = neat.nn.FeedForwardNetwork.create(genome, config)
    >>> half_sse = sum((network.activate(list(row))[0] - target[0]) ** 2 for row, target in zip(x, t)) / 2
    >>> bool(abs(half_sse / len(x) - losses[0]) < 1e-12)
    True
    """
    from ..training import train_many

    keyed = _keyed(genomes)
    if not keyed:
        raise GraphBPError("refine_neat needs at least one genome; got none")
    graphs = []
    for key, genome in keyed:
        with _naming(key):
            graphs.append(from_neat(genome, config, activations=activations))
    try:
        with _one_blas_thread(optimizer):
            histories = train_many(
                graphs, x, t, loss, optimizer, epochs=epochs, batch_size=batch_size, seed=seed, progress=progress,
                backend=backend,
            )
    except GraphBPError as error:
        member = getattr(error, "graph", None)  # set where compile_many names a member by its index
        if member is None:
            raise
        raise type(error)(f"genome {keyed[member][0]!r}: {error.reason}") from None
    if write_back:
        # The graphs are from_neat's of these genomes, changed by training in their weights and biases
        # only: to_neat's checks of the structure and activations would find nothing.
        genome_config = genome_config_of(config)
        for (_, genome), G in zip(keyed, graphs):
            write_parameters(G, genome, *genome_edges(genome, genome_config))
    return np.array([history.loss[-1] for history in histories])
