"""NEAT genomes (neat-python 2.0) in and out: :func:`from_neat` and :func:`to_neat`.

neat-python's ``FeedForwardNetwork`` evaluates each node it needs as

    z_j = act_j(bias_j + response_j · Σ_i w_ji z_i)

over the enabled connections, in layers. That is eq. 5.48 with the response
folded into the weights: graphbp's edge (i, j) carries response_j · w_ji (a
plain float product: with the default response 1 it is w_ji itself, bit for
bit) and node j carries bias_j and ``neat_<act>`` (see
:mod:`graphbp.interop.neat_activations`). Node names are neat's keys: inputs
-1, -2, ..., outputs 0, 1, ..., hidden nodes the rest.
"""

from __future__ import annotations

import math

import networkx as nx

from ..activations import DEFAULT_HIDDEN_ACTIVATION, DEFAULT_OUTPUT_ACTIVATION, get_activation
from ..exceptions import ActivationError, GraphBPError, GraphStructureError, ParameterError
from ..network import finite_number, read_network
from .neat_activations import NEAT_ACTIVATIONS

__all__ = ["from_neat", "to_neat", "neat_config"]

# neat-python's XOR example settings (feed-forward, sigmoid, sum), every item neat 2.0 requires.
_CONFIG_DEFAULTS = {
    "NEAT": {
        "fitness_criterion": "max", "fitness_threshold": 3.9, "pop_size": 150, "reset_on_extinction": False,
        "no_fitness_termination": False,
    },
    "DefaultGenome": {
        "num_inputs": 2, "num_outputs": 1, "num_hidden": 0, "feed_forward": True,
        "initial_connection": "full_direct",
        "activation_default": "sigmoid", "activation_mutate_rate": 0.0, "activation_options": "sigmoid",
        "aggregation_default": "sum", "aggregation_mutate_rate": 0.0, "aggregation_options": "sum",
        "bias_init_mean": 0.0, "bias_init_stdev": 1.0, "bias_init_type": "gaussian", "bias_max_value": 30.0,
        "bias_min_value": -30.0, "bias_mutate_power": 0.5, "bias_mutate_rate": 0.7, "bias_replace_rate": 0.1,
        "compatibility_disjoint_coefficient": 1.0, "compatibility_weight_coefficient": 0.5,
        "conn_add_prob": 0.5, "conn_delete_prob": 0.5,
        "enabled_default": True, "enabled_mutate_rate": 0.01, "enabled_rate_to_true_add": 0.0,
        "enabled_rate_to_false_add": 0.0,
        "node_add_prob": 0.2, "node_delete_prob": 0.2,
        "response_init_mean": 1.0, "response_init_stdev": 0.0, "response_init_type": "gaussian",
        "response_max_value": 30.0, "response_min_value": -30.0, "response_mutate_power": 0.0,
        "response_mutate_rate": 0.0, "response_replace_rate": 0.0,
        "weight_init_mean": 0.0, "weight_init_stdev": 1.0, "weight_init_type": "gaussian", "weight_max_value": 30.0,
        "weight_min_value": -30.0, "weight_mutate_power": 0.5, "weight_mutate_rate": 0.8, "weight_replace_rate": 0.1,
        "single_structural_mutation": False, "structural_mutation_surer": "default",
    },
    "DefaultSpeciesSet": {"compatibility_threshold": 3.0},
    "DefaultStagnation": {"species_fitness_func": "max", "max_stagnation": 20, "species_elitism": 2},
    "DefaultReproduction": {"elitism": 2, "survival_threshold": 0.2, "min_species_size": 2},
}


def genome_config_of(config):
    """The ``DefaultGenomeConfig`` of a ``neat.Config`` (or that genome config itself)."""
    return getattr(config, "genome_config", config)


def _activation(node: int, gene, genome_config, activations: dict):
    """The graphbp activation for neat's ``gene.activation``, or an error naming the node."""
    import neat.activations

    name = gene.activation
    if name in activations:
        return activations[name]
    builtin = getattr(neat.activations, f"{name}_activation", None)
    function = genome_config.activation_defs.functions.get(name)
    if name in NEAT_ACTIVATIONS and function is builtin:
        return NEAT_ACTIVATIONS[name]
    what = "unknown to this config" if function is None else "a user function registered with neat"
    raise ActivationError(
        f"node {node!r} has activation {name!r} ({what}), which graphbp cannot express; supported: "
        f"{', '.join(NEAT_ACTIVATIONS)}, or pass activations={{{name!r}: <graphbp activation>}}"
    )


def _check_aggregation(node: int, gene, genome_config) -> None:
    import neat.aggregations

    function = genome_config.aggregation_function_defs.functions.get(gene.aggregation)
    if function is not neat.aggregations.sum_aggregation:
        raise GraphStructureError(
            f"node {node!r} aggregates its inputs with {gene.aggregation!r}; graphbp's a_j is a weighted sum "
            "(eq. 5.48), so only neat's 'sum' aggregation can be expressed"
        )


def _node_activations(genome, genome_config, activations: dict) -> dict:
    """Node key -> the graphbp activation of its gene, every node checked (sum aggregation, a known activation).

    Each (activation, aggregation) pair of names is looked up once per genome, not once per node.
    """
    checked: dict = {}
    result = {}
    for node, gene in genome.nodes.items():
        names = (gene.activation, gene.aggregation)
        if names not in checked:
            _check_aggregation(node, gene, genome_config)
            checked[names] = _activation(node, gene, genome_config, activations)
        result[node] = checked[names]
    return result


def _enabled_connections(genome, inputs: list) -> list:
    """The keys (i, j) of the genome's enabled connections; a connection joining an unknown node is an error."""
    known_sources = set(inputs) | set(genome.nodes)
    enabled = []
    for gene in genome.connections.values():
        if not gene.enabled:
            continue
        source, target = gene.key
        if source not in known_sources or target not in genome.nodes:
            raise GraphStructureError(
                f"connection {gene.key!r} joins a node that is neither an input nor a node of the genome"
            )
        enabled.append(gene.key)
    return enabled


def genome_edges(genome, genome_config) -> tuple[list, list]:
    """(enabled, placeholders): the keys of the genome's enabled connections, and the placeholder edges from_neat adds."""
    inputs, outputs = list(genome_config.input_keys), list(genome_config.output_keys)
    enabled = _enabled_connections(genome, inputs)
    return enabled, _placeholder_edges(genome, inputs, outputs, enabled)


def _placeholder_edges(genome, inputs: list, outputs: list, enabled: list) -> list:
    """(first input, k) for each output k no input reaches over the enabled connections.

    neat computes such an output as a constant (its connections are disabled, or come only from
    units without inputs); graphbp needs every output to depend on x. The edge, of weight 0, adds
    0·x_1 = 0 to a_k, so the graph still computes exactly what neat computes.
    """
    successors: dict = {}
    for source, target in enabled:
        successors.setdefault(source, []).append(target)
    reached, frontier = set(inputs), list(inputs)
    while frontier:
        for target in successors.get(frontier.pop(), ()):
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    for output in outputs:
        if output not in genome.nodes:
            raise GraphStructureError(f"output {output!r} has no node gene in genome {genome.key!r}")
    return [(inputs[0], output) for output in outputs if output not in reached]


def from_neat(genome, config, *, activations: dict | None = None) -> nx.DiGraph:
    """The network a neat-python genome encodes, as a graphbp DiGraph.

    The graph computes what ``neat.nn.FeedForwardNetwork.create(genome,
    config).activate`` computes (to rounding: the response multiplies each
    weight instead of the sum). Disabled connections are left out; nodes that
    feed no output are kept (neat skips them; graphbp computes them and their
    δ is 0). An output no input reaches (neat computes a constant there) gets
    an edge from the first input with weight 0 and the attributes
    ``placeholder=True`` and ``trainable=False``, since graphbp needs every
    output to depend on x; training leaves it at 0, and :func:`to_neat`
    accepts it only while its weight is still 0. Edges into a node whose
    response is 0 (weight 0 whatever neat's weight) are ``trainable=False``
    too.

    The graph is validated once, here (:func:`graphbp.read_network`); the
    passes and training that follow reuse that reading until a weight changes.

    Parameters
    ----------
    genome : neat.DefaultGenome
        A feed-forward genome with ``nodes`` (bias, response, activation,
        aggregation) and ``connections`` (weight, enabled).
    config : neat.Config or its ``genome_config``
        Gives the input and output keys and neat's activation and aggregation
        functions.
    activations : dict, optional
        neat activation name -> graphbp activation (a registered name or an
        :class:`~graphbp.Activation`), for functions added with
        ``config.genome_config.add_activation``; it also overrides a built-in.

    Returns
    -------
    networkx.DiGraph
        Nodes are neat's keys; ``G.graph["inputs"]`` and ``G.graph["outputs"]``
        are the config's ``input_keys`` and ``output_keys``; edges carry
        ``weight`` = response_j · w_ji, nodes ``bias`` and ``activation``.

    Raises
    ------
    ActivationError
        A node whose activation graphbp cannot express (the node is named).
    GraphStructureError
        A node aggregating with anything but neat's ``sum``, a connection
        into an input or from an unknown node, an output without a node gene,
        or a cycle (a recurrent genome).

    Examples
    --------
    >>> import neat, graphbp
    >>> from graphbp.interop import from_neat, neat_config
    >>> config = neat_config(num_inputs=2, num_outputs=1, pop_size=10)
    >>> genome = neat.Population(config, seed=0).population[1]   # a fresh genome of the first generation
    >>> G = from_neat(genome, config)
    >>> sorted(G.edges), G.nodes[0]["activation"]
    ([(-2, 0), (-1, 0)], 'neat_sigmoid')
    >>> x = [0.5, -1.0]
    >>> expected = neat.nn.FeedForwardNetwork.create(genome, config).activate(x)[0]
    >>> bool(abs(graphbp.forward(G, x).y[0] - expected) < 1e-12)
    True
    """
    genome_config = genome_config_of(config)
    inputs, outputs = list(genome_config.input_keys), list(genome_config.output_keys)
    node_activation = _node_activations(genome, genome_config, activations or {})
    enabled, placeholders = genome_edges(genome, genome_config)
    G = nx.DiGraph(inputs=inputs, outputs=outputs)
    G.add_nodes_from(inputs)
    G.add_nodes_from(outputs)
    for node, gene in genome.nodes.items():  # add_node: add_nodes_from takes (node, attributes) by a TypeError each
        G.add_node(node, activation=node_activation[node], bias=float(gene.bias))
    nodes = genome.nodes
    G.add_edges_from(
        (source, target, {"weight": float(nodes[target].response * genome.connections[source, target].weight)})
        for source, target in enabled
    )
    # Into a node of response 0, neat ignores every weight: graphbp's w_ji = 0 · w is fixed, so frozen.
    G.add_edges_from(((source, target) for source, target in enabled if nodes[target].response == 0), trainable=False)
    G.add_edges_from(placeholders, weight=0.0, placeholder=True, trainable=False)
    read_network(G)  # the one validation: cycles, and everything else graphbp checks, named now; passes reuse it
    return G


def to_neat(G, genome, config, *, activations: dict | None = None, weight: str = "weight"):
    """Write the weights and biases of `G` back into the genome it came from, in place.

    Afterwards neat's ``FeedForwardNetwork`` of the genome computes what `G`
    computes. `G` is compared with the genome directly (no graph is rebuilt,
    no validation of `G` repeated): O(nodes + connections) lookups. The
    genome's structure, responses, activations and disabled connections are
    left as they are; every enabled connection gets
    weight_ji = w_ji / response_j and every node its bias. A weight that
    still equals response_j · (the genome's weight), i.e. one :func:`from_neat`
    wrote and nobody changed, keeps the genome's value bit for bit, so
    ``to_neat(from_neat(genome, config), genome, config)`` changes nothing.

    Values are written as they are, even outside the config's
    ``weight_min_value``/``weight_max_value`` (or the bias's): neat clamps
    them at the next mutation that touches them.

    Parameters
    ----------
    G : networkx.DiGraph
        The network, with the structure :func:`from_neat` gives for `genome`.
    genome : neat.DefaultGenome
        Written in place.
    config : neat.Config or its ``genome_config``
    activations : dict, optional
        As for :func:`from_neat`.
    weight : str, default "weight"
        Edge attribute holding w_ji.

    Returns
    -------
    genome
        The same genome object.

    Raises
    ------
    GraphStructureError
        `G` does not have the genome's enabled connections, nodes, inputs or
        outputs (the first difference is named).
    ActivationError
        A node's activation differs from the genome's.
    ParameterError
        A changed weight into a node whose response is 0 (no neat weight
        gives it), a nonzero weight on a ``placeholder`` edge (see
        :func:`from_neat`), or an invalid weight or bias in `G`.

    Examples
    --------
    >>> import neat
    >>> from graphbp.interop import from_neat, to_neat, neat_config
    >>> config = neat_config(num_inputs=2, num_outputs=1, pop_size=10)
    >>> genome = neat.Population(config, seed=0).population[1]   # a fresh genome of the first generation
    >>> G = from_neat(genome, config)
    >>> G.edges[-1, 0]["weight"] = 2.5
    >>> G.nodes[0]["bias"] = -1.0
    >>> genome = to_neat(G, genome, config)
    >>> genome.connections[(-1, 0)].weight, genome.nodes[0].bias
    (2.5, -1.0)
    """
    genome_config = genome_config_of(config)
    inputs, outputs = list(genome_config.input_keys), list(genome_config.output_keys)
    enabled, placeholders = genome_edges(genome, genome_config)
    _check_same_network(G, inputs, outputs, genome, enabled + placeholders)
    node_activation = _node_activations(genome, genome_config, activations or {})
    for node, spec in node_activation.items():
        have, want = _graph_activation(G, node, node in outputs), get_activation(spec)
        if have is not want:
            raise ActivationError(
                f"node {node!r} has activation {have.name!r} in the graph but {want.name!r} in the genome; "
                "to_neat writes weights and biases only"
            )
    return write_parameters(G, genome, enabled, placeholders, weight)


def write_parameters(G, genome, enabled: list, placeholders: list, weight: str = "weight"):
    """Write `G`'s weights and biases into `genome`, whose structure `G` is known to have (see :func:`to_neat`).

    `enabled` and `placeholders` are the genome's edges as :func:`genome_edges` gives them. Nothing is
    written unless every value fits (a placeholder edge still 0, no changed weight into a response-0 node).
    """
    adjacency, nodes = G._adj, G._node  # plain dicts: G.edges[u, v] builds a view per lookup
    for source, target in placeholders:
        value = _parameter(adjacency[source][target].get(weight), "edge ({!r}, {!r}) has {}", source, target, weight)
        if value != 0.0:
            raise ParameterError(
                f"edge ({source!r}, {target!r}) has weight {value!r}, but it stands for no connection: the "
                f"genome's output {target!r} depends on no input, and from_neat added this edge with weight "
                "0 so that graphbp takes the network; a genome cannot hold another weight there"
            )
    weights, connections, genes = [], genome.connections, genome.nodes
    for source, target in enabled:
        value = _parameter(adjacency[source][target].get(weight), "edge ({!r}, {!r}) has {}", source, target, weight)
        gene = connections[source, target]
        response = genes[target].response
        if response * gene.weight == value:
            continue  # unchanged since from_neat: keep the genome's own number
        if response == 0:
            raise ParameterError(
                f"edge ({source!r}, {target!r}) has weight {value!r}, but node {target!r} has response 0 in "
                "the genome, so neat ignores its inputs: no neat weight gives this one"
            )
        weights.append((gene, value / response))
    biases = [(gene, _parameter(nodes[node].get("bias", 0.0), "node {!r} has bias", node)) for node, gene in genes.items()]
    for gene, value in weights:   # written only once every value is known to fit
        gene.weight = value
    for gene, value in biases:
        gene.bias = value
    return genome


def _parameter(value, what: str, *parts) -> float:
    """`value` as a float, or a ParameterError saying `what` it is: ``what.format(*parts)``, e.g. "edge (-1, 0) has weight".

    The message is formatted only for that error: the write-back of a generation checks every weight.
    """
    if type(value) is float and math.isfinite(value):
        return value  # the usual case, without the abstract-class check of finite_number
    if not finite_number(value):
        raise ParameterError(f"{what.format(*parts)} {value!r}; it must be a finite number")
    return float(value)


def _graph_activation(G, node, is_output: bool):
    """The activation node `node` of `G` has, its default included (as :func:`graphbp.read_network` resolves it)."""
    spec = G.nodes[node].get("activation")
    if spec is None:
        spec = DEFAULT_OUTPUT_ACTIVATION if is_output else DEFAULT_HIDDEN_ACTIVATION
    try:
        return get_activation(spec)
    except ActivationError as error:
        raise ActivationError(f"node {node!r}: {error}") from None


def _check_same_network(G, inputs: list, outputs: list, genome, edges: list) -> None:
    """`G` has the inputs, outputs, nodes and edges `from_neat` gives the genome (`edges`: its enabled and placeholder edges)."""
    if not isinstance(G, nx.DiGraph) or G.is_multigraph():
        raise GraphStructureError(f"a network must be a networkx DiGraph, got {type(G).__name__}")
    for key, want, ends in (("inputs", inputs, G.in_degree), ("outputs", outputs, G.out_degree)):
        listed = G.graph.get(key)
        have = list(listed) if listed is not None else [node for node in G if ends(node) == 0]
        if have != want:
            raise GraphStructureError(f"the graph's {key} {have} are not the genome's {want}")
    for node in (*inputs, *genome.nodes):
        if node not in G:
            raise GraphStructureError(f"node {node!r} of the genome is not in the graph")
    for node in G:
        if node not in genome.nodes and node not in inputs:
            raise GraphStructureError(f"node {node!r} of the graph is not a node of the genome")
    for edge in edges:
        if not G.has_edge(*edge):
            raise GraphStructureError(f"the genome's enabled connection {edge!r} is not an edge of the graph")
    if G.number_of_edges() != len(edges):
        expected = set(edges)
        edge = next(edge for edge in G.edges if edge not in expected)
        raise GraphStructureError(f"edge {edge!r} is not an enabled connection of the genome")


def neat_config(**settings):
    """A ``neat.Config`` for a feed-forward ``DefaultGenome``, without writing a config file yourself.

    Starts from neat-python's XOR example (2 inputs, 1 output, sigmoid units,
    sum aggregation, population 150); each keyword replaces the item of that
    name in whichever section holds it. Lists (``activation_options``) may be
    given as Python lists.

    Raises
    ------
    GraphBPError
        A keyword that is no item of neat's config file.

    Examples
    --------
    >>> config = neat_config(num_inputs=3, activation_options=["sigmoid", "tanh"], pop_size=20)
    >>> config.genome_config.input_keys, config.pop_size
    ([-1, -2, -3], 20)
    """
    import os
    import tempfile

    import neat

    sections = {name: dict(items) for name, items in _CONFIG_DEFAULTS.items()}
    for key, value in settings.items():
        section = next((items for items in sections.values() if key in items), None)
        if section is None:
            known = sorted(item for items in sections.values() for item in items)
            raise GraphBPError(f"{key!r} is not an item of neat's config file; known: {', '.join(known)}")
        section[key] = " ".join(map(str, value)) if isinstance(value, (list, tuple)) else value
    text = "".join(
        f"[{name}]\n" + "".join(f"{key} = {value}\n" for key, value in items.items()) + "\n"
        for name, items in sections.items()
    )
    handle, path = tempfile.mkstemp(suffix=".cfg", text=True)
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        return neat.Config(
            neat.DefaultGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet, neat.DefaultStagnation, path
        )
    finally:
        os.remove(path)
