"""NEAT genomes in and out: graphbp computes what neat-python's FeedForwardNetwork computes.

Genomes come from short seeded neat runs with every built-in activation, mutated
responses, added and deleted nodes and connections, and disabled connections.
"""

import copy
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import graphbp
from graphbp.interop import NEAT_ACTIVATIONS, from_neat, neat_config, refine_neat, to_neat

X = np.random.default_rng(0).uniform(-2.0, 2.0, size=(12, 3))


def _config(**settings):
    defaults = dict(
        num_inputs=3, num_outputs=2, num_hidden=1, pop_size=30, initial_connection="partial_direct 0.6",
        activation_options=list(NEAT_ACTIVATIONS), activation_default="random", activation_mutate_rate=0.3,
        response_init_stdev=0.5, response_mutate_rate=0.5, response_mutate_power=0.5,
        node_add_prob=0.6, node_delete_prob=0.1, conn_add_prob=0.6, conn_delete_prob=0.2,
        enabled_mutate_rate=0.2, compatibility_threshold=30.0,
    )
    return neat_config(**{**defaults, **settings})


def _neat_outputs(neat, genome, config, x):
    network = neat.nn.FeedForwardNetwork.create(genome, config)
    return np.array([network.activate(list(row)) for row in x])


def evolve(neat, seeds, generations=6):
    """(config, genomes): a deep copy of every genome neat evaluates in seeded runs, 30 per generation."""
    config = _config()
    genomes = []

    def fitness(population, config):
        for _, genome in population:
            genome.fitness = -float(np.nan_to_num(np.abs(_neat_outputs(neat, genome, config, X[:4])).sum(), nan=1e9))
            genomes.append(copy.deepcopy(genome))

    for seed in seeds:
        neat.Population(config, seed=seed).run(fitness, generations)
    return config, genomes


def convert(config, genomes) -> list:
    """(genome, graph) for every genome."""
    return [(genome, from_neat(genome, config)) for genome in genomes]


def output_disagreement(neat, config, pairs) -> float:
    """The largest |graphbp − neat| / max(1, |neat|) over the outputs of every pair on the inputs X."""
    return max(_scaled_error(graphbp.forward(G, X).y, _neat_outputs(neat, g, config, X)) for g, G in pairs)


@pytest.fixture(scope="module")
def evolved(neat):
    """Every genome of 6 generations of two seeded runs: 360 in all."""
    return evolve(neat, seeds=(0, 1))


@pytest.fixture(scope="module")
def converted(evolved):
    return convert(*evolved)


def _placeholders(G) -> list:
    return [(i, j) for i, j, marked in G.edges(data="placeholder", default=False) if marked]


def perturbed(G, rng):
    """G's parameter vector with every weight and bias moved at random, except placeholder edges (kept 0)."""
    theta = graphbp.get_parameters(G)
    keep = [kind == "weight" and G.edges[key].get("placeholder", False) for kind, key in graphbp.parameter_keys(G)]
    return np.where(keep, theta, theta + rng.normal(0.0, 0.3, theta.size))


def _scaled_error(have, want):
    return float(np.max(np.abs(have - want) / np.maximum(1.0, np.abs(want))))


def test_outputs_equal_neat_on_evolved_genomes(neat, evolved, converted):
    config, _ = evolved
    assert output_disagreement(neat, config, converted) < 1e-12
    # The sample covers what the issue asks for: hidden nodes, skip links, disabled connections,
    # responses other than 1, nodes that feed no output, and every activation.
    assert sum(len(G) > 5 for _, G in converted) > 100
    assert sum(any(i < 0 and j in G.graph["outputs"] for i, j in G.edges) and len(G) > 5 for _, G in converted) > 50
    assert sum(any(not c.enabled for c in g.connections.values()) for g, _ in converted) > 50
    assert sum(any(n.response != 1.0 for n in g.nodes.values()) for g, _ in converted) > 100
    assert sum(bool(graphbp.describe(G)["dead_ends"]) for _, G in converted) > 10
    assert sum(bool(graphbp.describe(G)["constant_units"]) for _, G in converted) > 10   # neat's "bias neurons"
    used = {G.nodes[n]["activation"] for _, G in converted for n in G if n not in G.graph["inputs"]}
    assert used == set(NEAT_ACTIVATIONS.values())


def test_graph_has_the_enabled_connections_and_every_node(converted):
    for genome, G in converted[:80]:
        enabled = {c.key for c in genome.connections.values() if c.enabled}
        assert set(G.edges) - set(_placeholders(G)) == enabled
        assert set(G) == set(genome.nodes) | {-1, -2, -3}
        for (i, j), data in G.edges.items():
            if not data.get("placeholder"):
                assert data["weight"] == genome.nodes[j].response * genome.connections[i, j].weight
        for n, gene in genome.nodes.items():
            assert G.nodes[n]["bias"] == gene.bias


def test_output_no_input_reaches_gets_a_weight_0_placeholder_edge(neat, evolved, converted):
    """neat computes a constant at such an output; the placeholder edge from the first input adds 0·x."""
    config, _ = evolved
    marked = [(genome, G) for genome, G in converted if _placeholders(G)]
    assert len(marked) > 10
    for genome, G in marked:
        for source, output in _placeholders(G):
            gene = genome.connections.get((source, output))
            assert source == -1 and G.edges[source, output]["weight"] == 0.0 and (gene is None or not gene.enabled)
            column = _neat_outputs(neat, genome, config, X)[:, config.genome_config.output_keys.index(output)]
            assert np.all(column == column[0])
    assert output_disagreement(neat, config, marked) < 1e-12


def test_round_trip_leaves_every_genome_bit_for_bit(evolved, converted):
    config, _ = evolved
    for genome, G in converted:
        genome, before = copy.deepcopy(genome), genome
        to_neat(G, genome, config)
        assert {k: c.weight for k, c in genome.connections.items()} == {k: c.weight for k, c in before.connections.items()}
        assert {k: (n.bias, n.response) for k, n in genome.nodes.items()} == {
            k: (n.bias, n.response) for k, n in before.nodes.items()
        }


def test_changed_weights_written_back_make_neat_equal_graphbp(neat, evolved, converted):
    config, _ = evolved
    rng = np.random.default_rng(1)
    for genome, G in converted[::3]:
        genome, G = copy.deepcopy(genome), G.copy()
        graphbp.set_parameters(G, perturbed(G, rng))
        to_neat(G, genome, config)
        assert _scaled_error(graphbp.forward(G, X).y, _neat_outputs(neat, genome, config, X)) < 1e-12


def test_trained_weights_refine_neat_fitness(neat):
    """XOR: graphbp.train lowers neat's own squared error on the genome it writes back into."""
    config = neat_config(pop_size=20)
    x, t = graphbp.datasets.xor()
    genome = neat.Population(config, seed=3).population[1]
    G = from_neat(genome, config)

    def neat_error():
        return float(((_neat_outputs(neat, genome, config, x) - t) ** 2).sum())

    before = neat_error()
    graphbp.train(G, x, t, optimizer="L-BFGS-B", epochs=30, progress=False)
    to_neat(G, genome, config)
    assert neat_error() == pytest.approx(2 * graphbp.backprop(G, x, t).loss, rel=1e-12)
    assert neat_error() < before


def test_gradients_of_a_neat_network_pass_the_central_difference_check(converted):
    t = np.random.default_rng(2).normal(size=(4, 2))
    checked = 0
    for _, G in converted[::10]:
        acts = {G.nodes[n]["activation"] for n in G if n not in G.graph["inputs"]}
        if acts & {"neat_inv", "neat_exp", "neat_cube", "neat_square"}:
            continue  # large curvature: central differences need their own step; h' is checked below
        report = graphbp.check_gradients(G, X[:4], t)
        assert report.max_rel_error < 1e-6, str(report)
        checked += 1
    assert checked >= 5


# -- activations: neat's own functions, their clamps, derivatives against torch autograd -----------------

POINTS = np.concatenate([np.linspace(-25.0, 25.0, 201), [-24.0, -12.0, -3.4, -1.0, 0.0, 1e-7, 1.0, 3.4, 12.0, 24.0]])


@pytest.mark.parametrize("name", sorted(NEAT_ACTIVATIONS))
def test_activation_equals_neats_function(neat, name):
    neat_function = getattr(neat.activations, f"{name}_activation")
    h = graphbp.get_activation(NEAT_ACTIVATIONS[name])
    points = POINTS[POINTS != 0.0] if name == "inv" else POINTS
    want = np.array([neat_function(float(z)) for z in points])
    np.testing.assert_allclose(h(points), want, rtol=1e-14, atol=1e-300)


def test_inv_at_zero_is_neats_zero(neat):
    inv = graphbp.get_activation("neat_inv")
    assert neat.activations.inv_activation(0.0) == 0.0
    assert float(inv(np.array(0.0))) == float(inv.derivative(np.array(0.0))) == 0.0


def _torch_versions(torch):
    """neat's functions written in torch, independently of graphbp (for autograd's h' and h'')."""
    clamp = torch.clamp
    return {
        "sigmoid": lambda a: torch.sigmoid(clamp(5 * a, -60, 60)),
        "tanh": lambda a: torch.tanh(clamp(2.5 * a, -60, 60)),
        "sin": lambda a: torch.sin(clamp(5 * a, -60, 60)),
        "gauss": lambda a: torch.exp(-5 * clamp(a, -3.4, 3.4) ** 2),
        "relu": torch.relu,
        "elu": torch.nn.functional.elu,
        "lelu": lambda a: torch.nn.functional.leaky_relu(a, 0.005),
        "selu": torch.selu,
        "softplus": lambda a: 0.2 * torch.log(1 + torch.exp(clamp(5 * a, -60, 60))),
        "identity": lambda a: a,
        "clamped": lambda a: clamp(a, -1, 1),
        "inv": lambda a: 1 / a,
        "log": lambda a: torch.log(clamp(a, min=1e-7)),
        "exp": lambda a: torch.exp(clamp(a, -60, 60)),
        "abs": torch.abs,
        "hat": lambda a: torch.relu(1 - torch.abs(a)),
        "square": lambda a: a**2,
        "cube": lambda a: a**3,
    }


# (kink or clamp boundary, h' there by graphbp's convention, a point just inside where h' is the smooth one's)
KINKS = {
    "sigmoid": [(12.0, 0.0, 11.9), (-12.0, 0.0, -11.9)], "tanh": [(24.0, 0.0, 23.9), (-24.0, 0.0, -23.9)],
    "sin": [(12.0, 0.0, 11.99), (-12.0, 0.0, -11.99)], "softplus": [(12.0, 0.0, 11.9), (-12.0, 0.0, -11.9)],
    "exp": [(60.0, 0.0, 59.9), (-60.0, 0.0, -59.9)], "gauss": [(3.4, 0.0, 3.39), (-3.4, 0.0, -3.39)],
    "clamped": [(1.0, 0.0, 0.99), (-1.0, 0.0, -0.99)], "log": [(1e-7, 0.0, 2e-7)],
    "hat": [(1.0, 0.0, 0.99), (-1.0, 0.0, -0.99), (0.0, 0.0, 0.01)], "abs": [(0.0, 0.0, 0.01)],
    # kinks at 0 of the relu family: the left-hand slope, as graphbp's relu and leaky_relu
    "relu": [(0.0, 0.0, 0.01)], "lelu": [(0.0, 0.005, 0.01)], "elu": [(0.0, 1.0, -0.01)],
    "selu": [(0.0, 1.0507009873554805 * 1.6732632423543772, -0.01)], "inv": [(0.0, 0.0, 0.01)],
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_derivative_at_a_clamp_boundary_or_kink(name):
    """h' at a clamp boundary is 0, the clamped side's slope (as relu'(0) = 0); just inside it is h's own."""
    h = graphbp.get_activation(NEAT_ACTIVATIONS[name])
    for kink, slope, inside in KINKS[name]:
        assert float(h.derivative(np.array(kink))) == pytest.approx(slope, rel=1e-15, abs=0)
        step = 1e-5 * abs(inside)
        numeric = (h(np.array(inside + step)) - h(np.array(inside - step))) / (2 * step)
        assert float(h.derivative(np.array(inside))) == pytest.approx(float(numeric), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", sorted(set(NEAT_ACTIVATIONS.values())))
def test_activation_compiles_in_numba_and_runs_in_torch(numba, torch, name):
    """No np.where in h, h': numba compiles each for one float (no warning), torch runs it on tensors; same numbers."""
    import warnings

    from graphbp.compiled.kernels_numba import compiled_activation

    act = graphbp.get_activation(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h, slope = compiled_activation(act)
    points = POINTS[POINTS != 0.0] if name == "neat_inv" else POINTS
    want, want_slope = act.function(points), act.derivative(points)
    # numba's libm and kernel tanh may differ from numpy in the last ulp; 1 − tanh² cancels, so h' on h's scale
    np.testing.assert_allclose([h(p) for p in points], want, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose([slope(p) for p in points], want_slope, rtol=1e-14, atol=1e-15)
    if act.output_derivative is not None:   # h' from z, as the backward passes take it
        np.testing.assert_allclose(act.output_derivative(points, want), want_slope, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(graphbp.activations.torch_activation(name)(torch.tensor(points)).numpy(), want, rtol=1e-14, atol=1e-300)


def test_clamp_reproduced_beyond_the_boundary(neat):
    """Beyond neat's clamp h is constant (no silent extrapolation), and h', h'' are 0 there."""
    for name, beyond in [("sigmoid", -13.0), ("tanh", 30.0), ("sin", 20.0), ("gauss", 5.0), ("exp", 70.0),
                         ("softplus", -20.0), ("clamped", 2.0), ("log", 1e-9)]:
        h = graphbp.get_activation(NEAT_ACTIVATIONS[name])
        neat_function = getattr(neat.activations, f"{name}_activation")
        assert float(h(np.array(beyond))) == pytest.approx(neat_function(beyond), rel=1e-15, abs=0)
        assert float(h.derivative(np.array(beyond))) == 0.0
        assert float(h.second_derivative(np.array(beyond))) == 0.0
    assert float(graphbp.get_activation("neat_sin")(np.array(20.0))) == pytest.approx(math.sin(60.0), rel=1e-15)


# -- errors ------------------------------------------------------------------------------------------


@pytest.fixture()
def small(neat):
    """A config and one fresh genome of it: 2 inputs, 1 output, both connections enabled."""
    config = neat_config(pop_size=5)
    return config, neat.Population(config, seed=0).population[1]


def test_unsupported_aggregation_names_the_node(small):
    config, genome = small
    genome.nodes[0].aggregation = "product"
    with pytest.raises(graphbp.GraphStructureError, match=r"node 0 aggregates its inputs with 'product'"):
        from_neat(genome, config)


def test_user_activation_is_an_error_unless_mapped(small):
    config, genome = small
    config.genome_config.add_activation("twice", lambda z: 2.0 * z)
    genome.nodes[0].activation = "twice"
    with pytest.raises(graphbp.ActivationError, match=r"node 0 has activation 'twice' \(a user function"):
        from_neat(genome, config)
    twice = graphbp.Activation("twice", lambda a: 2.0 * a, lambda a: 2.0 + 0.0 * a, lambda a: 0.0 * a)
    G = from_neat(genome, config, activations={"twice": twice})
    assert G.nodes[0]["activation"] is twice


def test_activation_unknown_to_the_config_is_an_error(small):
    config, genome = small
    genome.nodes[0].activation = "swish"
    with pytest.raises(graphbp.ActivationError, match=r"node 0 has activation 'swish' \(unknown to this config\)"):
        from_neat(genome, config)


def test_builtin_name_replaced_in_neat_is_an_error(small):
    config, genome = small
    config.genome_config.add_activation("sigmoid", lambda z: z)
    with pytest.raises(graphbp.ActivationError, match=r"node 0 has activation 'sigmoid'"):
        from_neat(genome, config)


def test_recurrent_genome_is_a_cycle_error(neat, small):
    config, genome = small
    genome.add_connection(config.genome_config, 0, 0, 1.0, True)
    with pytest.raises(graphbp.GraphStructureError, match="self-loop on node 0"):
        from_neat(genome, config)


def test_to_neat_rejects_another_structure(small):
    config, genome = small
    G = from_neat(genome, config)
    extra = G.copy()
    extra.add_edge(-1, 7, weight=1.0)
    extra.nodes[7]["activation"] = "identity"
    with pytest.raises(graphbp.GraphStructureError, match="node 7 of the graph is not a node of the genome"):
        to_neat(extra, genome, config)
    missing = G.copy()
    missing.remove_edge(-2, 0)
    with pytest.raises(graphbp.GraphStructureError, match=r"enabled connection \(-2, 0\) is not an edge"):
        to_neat(missing, genome, config)
    changed = G.copy()
    changed.nodes[0]["activation"] = "tanh"
    with pytest.raises(graphbp.ActivationError, match="node 0 has activation 'tanh' in the graph but 'neat_sigmoid'"):
        to_neat(changed, genome, config)


def test_to_neat_with_response_zero(small):
    config, genome = small
    genome.nodes[0].response = 0.0
    G = from_neat(genome, config)
    assert to_neat(G, genome, config) is genome        # nothing changed: fine
    G.edges[-1, 0]["weight"] = 0.5
    G.nodes[0]["bias"] = 2.0
    before = copy.deepcopy(genome)
    with pytest.raises(graphbp.ParameterError, match=r"edge \(-1, 0\) has weight 0.5, but node 0 has response 0"):
        to_neat(G, genome, config)
    assert genome.nodes[0].bias == before.nodes[0].bias   # nothing written


def test_disconnected_output_and_its_placeholder_edge(neat, small):
    config, genome = small
    for gene in genome.connections.values():
        gene.enabled = False
    G = from_neat(genome, config)
    assert list(G.edges(data=True)) == [(-1, 0, {"weight": 0.0, "placeholder": True, "trainable": False})]
    np.testing.assert_array_equal(graphbp.forward(G, X[:, :2]).y, _neat_outputs(neat, genome, config, X[:, :2]))
    G.nodes[0]["bias"] = 0.25                      # the bias of a constant output can be trained and written back
    assert to_neat(G, genome, config).nodes[0].bias == 0.25
    G.edges[-1, 0]["weight"] = 0.1
    with pytest.raises(graphbp.ParameterError, match=r"edge \(-1, 0\) has weight 0.1, but it stands for no connection"):
        to_neat(G, genome, config)


def test_output_feeding_another_node_and_genome_config_given_directly(neat, small):
    """An output that feeds a hidden node (neat allows it) is an output with successors in graphbp."""
    config, genome = small
    genome.add_connection(config.genome_config, 0, 5, 0.7, True)
    genome.nodes[5] = config.genome_config.node_gene_type(5)
    genome.nodes[5].init_attributes(config.genome_config)
    G = from_neat(genome, config.genome_config)
    assert graphbp.describe(G)["outputs_feeding_others"] == [0] and graphbp.describe(G)["dead_ends"] == [5]
    x = X[:, :2]
    np.testing.assert_allclose(graphbp.forward(G, x).y, _neat_outputs(neat, genome, config, x), rtol=1e-13, atol=0)
    assert graphbp.backprop(G, x, np.zeros((len(x), 1))).delta[5].tolist() == [0.0] * len(x)


def test_neat_config_rejects_unknown_items(neat):
    with pytest.raises(graphbp.GraphBPError, match="'num_input' is not an item of neat's config file"):
        neat_config(num_input=3)


def test_saved_neat_network_reads_back(tmp_path, small):
    config, genome = small
    G = from_neat(genome, config)
    graphbp.write_json(G, tmp_path / "neat.json")
    H = graphbp.read_json(tmp_path / "neat.json")
    assert nx.utils.graphs_equal(G, H)
    assert graphbp.forward(H, X[:, :2]).y.tolist() == graphbp.forward(G, X[:, :2]).y.tolist()


# -- refine_neat: a whole generation trained at once, as train would train each genome ---------------------

T = np.random.default_rng(5).uniform(-1.0, 1.0, size=(len(X), 2))
REFINE = dict(optimizer=graphbp.Adam(0.05), epochs=8)


@pytest.fixture(scope="module")
def generation(evolved):
    """(config, genomes): 40 genomes of the last generations, with hidden nodes and disabled connections."""
    config, genomes = evolved
    return config, genomes[-40:]


def train_each(config, genomes, **options):
    """Per genome: from_neat, graphbp.train, to_neat (in place); the trained graphs and the final losses."""
    graphs, losses = [], []
    for genome in genomes:
        G = from_neat(genome, config)
        losses.append(graphbp.train(G, X, T, progress=False, **options).loss[-1])
        to_neat(G, genome, config)
        graphs.append(G)
    return graphs, np.array(losses)


def _parameters(genome) -> dict:
    return {**{k: c.weight for k, c in genome.connections.items()}, **{k: n.bias for k, n in genome.nodes.items()}}


def test_refine_neat_equals_train_on_each_genome(neat, generation):
    config, genomes = generation
    assert all(len(g.nodes) > 2 for g in genomes) and sum(any(not c.enabled for c in g.connections.values()) for g in genomes) > 10
    refined, alone = copy.deepcopy(genomes), copy.deepcopy(genomes)
    losses = refine_neat([(g.key, g) for g in refined], config, X, T, backend="numpy", **REFINE)
    graphs, want = train_each(config, alone, **REFINE)
    np.testing.assert_allclose(losses, want, rtol=1e-10, atol=0)
    # a genome whose every unit sits beyond a clamp has no gradient and stays; the others move
    assert sum(_parameters(g) != _parameters(before) for g, before in zip(refined, genomes)) > 30
    for g, h in zip(refined, alone):
        have, expected = _parameters(g), _parameters(h)
        assert have.keys() == expected.keys()
        assert max(abs(have[k] - expected[k]) / max(1.0, abs(expected[k])) for k in have) < 1e-10
    # neat's own network of each refined genome computes what the trained graph computes
    assert max(_scaled_error(graphbp.forward(G, X).y, _neat_outputs(neat, g, config, X)) for g, G in zip(refined, graphs)) < 1e-10


def test_baldwinian_refine_leaves_genomes_bit_for_bit(generation):
    config, genomes = generation
    untouched, written = copy.deepcopy(genomes), copy.deepcopy(genomes)
    losses = refine_neat(untouched, config, X, T, write_back=False, backend="numpy", **REFINE)
    assert [_parameters(g) for g in untouched] == [_parameters(g) for g in genomes]
    assert [{k: n.response for k, n in g.nodes.items()} for g in untouched] == [
        {k: n.response for k, n in g.nodes.items()} for g in genomes
    ]
    np.testing.assert_array_equal(losses, refine_neat(written, config, X, T, backend="numpy", **REFINE))


def test_refine_neat_takes_pairs_dicts_and_plain_lists(generation):
    config, genomes = generation
    genomes = genomes[:6]
    runs = [copy.deepcopy(genomes) for _ in range(3)]
    losses = [
        refine_neat([(g.key, g) for g in runs[0]], config, X, T, backend="numpy", **REFINE),
        refine_neat({g.key: g for g in runs[1]}, config, X, T, backend="numpy", **REFINE),
        refine_neat(runs[2], config, X, T, backend="numpy", **REFINE),
    ]
    np.testing.assert_array_equal(losses[0], losses[1])
    np.testing.assert_array_equal(losses[0], losses[2])
    assert [_parameters(g) for g in runs[0]] == [_parameters(g) for g in runs[1]] == [_parameters(g) for g in runs[2]]


def test_refine_neat_with_an_output_no_input_reaches(neat, small):
    """The placeholder edge is frozen at 0 (trainable=False), the output's bias trains, the write-back succeeds."""
    config, genome = small
    x, t = graphbp.datasets.xor()
    for gene in genome.connections.values():
        gene.enabled = False
    before = copy.deepcopy(genome)
    loss = refine_neat([genome], config, x, t, optimizer=graphbp.Adam(0.1), epochs=20, backend="numpy")
    assert [c.weight for c in genome.connections.values()] == [c.weight for c in before.connections.values()]
    assert genome.nodes[0].bias != before.nodes[0].bias
    outputs = _neat_outputs(neat, genome, config, x)
    assert np.all(outputs == outputs[0]) and loss[0] == pytest.approx(((outputs - t) ** 2).mean() / 2, rel=1e-12)


def test_refine_neat_with_a_scipy_method_and_the_numba_engine(neat, numba):
    """XOR genomes of neat's own settings: L-BFGS-B (one train per genome) and Adam on numba equal train alone."""
    config = neat_config(pop_size=8)
    x, t = graphbp.datasets.xor()
    genomes = list(neat.Population(config, seed=2).population.values())
    for options in (dict(optimizer="L-BFGS-B", epochs=5), dict(optimizer=graphbp.Adam(0.1), epochs=5)):
        refined, alone = copy.deepcopy(genomes), copy.deepcopy(genomes)
        losses = refine_neat(refined, config, x, t, **options)
        want = []
        for genome in alone:
            G = from_neat(genome, config)
            want.append(graphbp.train(G, x, t, progress=False, **options).loss[-1])
        np.testing.assert_allclose(losses, want, rtol=1e-10, atol=0)


def test_refine_neat_names_the_genome_it_cannot_read(small):
    config, genome = small
    other = copy.deepcopy(genome)
    other.key = 77
    other.nodes[0].activation = "swish"
    with pytest.raises(graphbp.ActivationError, match=r"genome 77: node 0 has activation 'swish'"):
        refine_neat([(1, genome), (77, other)], config, X[:, :2], T[:, :1], backend="numpy")
    with pytest.raises(graphbp.GraphBPError, match="item 1 of genomes is str, neither a neat genome nor a"):
        refine_neat([genome, "genome"], config, X[:, :2], T[:, :1])
    with pytest.raises(graphbp.GraphBPError, match="refine_neat needs at least one genome"):
        refine_neat([], config, X[:, :2], T[:, :1])


def test_refine_neat_names_the_genome_whose_training_fails(small):
    """A genome whose network overflows (an input weight of 1e200 through neat's cube) is named by its key."""
    config, genome = small
    config.genome_config.activation_options = ["sigmoid", "cube"]
    wild = copy.deepcopy(genome)
    wild.key = "wild"
    wild.nodes[0].activation = "cube"
    wild.connections[(-1, 0)].weight = 1e200
    with pytest.raises(graphbp.NumericalError, match="genome 'wild': "), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the error, without numpy's warning on the way (inf − inf)
        refine_neat([genome, wild], config, X[:, :2], T[:, :1], backend="numpy")


# -- the example and the benchmark run (tiny settings; speed is never asserted) ------------------------------

ROOT = Path(__file__).resolve().parents[2]


def test_backprop_neat_example_runs_headless(neat, tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "backprop_neat.py"), "--task", "xor", "--generations", "2",
         "--pop-size", "10", "--epochs", "2", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"}, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith("xor ") and "champion" not in line]
    assert [" ".join(row[1:-4]) for row in rows] == ["NEAT alone", "NEAT + refine_neat"]
    for row in rows:
        generations, fitness, accuracy, seconds = int(row[-4]), float(row[-3]), float(row[-2]), float(row[-1])
        assert generations <= 2 and fitness <= 4.0 and accuracy in (0.0, 0.25, 0.5, 0.75, 1.0) and seconds >= 0
    assert (tmp_path / "backprop_neat_xor.png").stat().st_size > 1000
    assert "<html" in (tmp_path / "backprop_neat_xor.html").read_text().lower()


def test_population_benchmark_runs_at_tiny_size(neat, numba):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "population.py"), "--size", "tiny", "--repeats", "1"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "tanh (graphbp)" in done.stdout and "neat sigmoid" in done.stdout and "neat sin" in done.stdout
    table = done.stdout.split("| target | measured | pass |", 1)[1]
    rows = [line.split("|")[1:-1] for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 8 and all(row[2].strip() in ("pass", "FAIL") for row in rows)
    assert "grown genomes: 3-" in done.stdout


def test_refine_neat_keeps_the_weights_into_a_response_0_node(small):
    """neat ignores the inputs of a node with response 0: from_neat freezes those edges, refine_neat writes the bias."""
    config, genome = small
    x, t = graphbp.datasets.xor()
    genome.nodes[0].response = 0.0
    before = copy.deepcopy(genome)
    assert all(data["trainable"] is False for *_, data in from_neat(genome, config).edges(data=True))
    refine_neat([genome], config, x, t, optimizer=graphbp.Adam(0.1), epochs=5, backend="numpy")
    assert [c.weight for c in genome.connections.values()] == [c.weight for c in before.connections.values()]
    assert genome.nodes[0].bias != before.nodes[0].bias


def test_to_neat_rejects_invalid_values_and_writes_nothing(small):
    config, genome = small
    G = from_neat(genome, config)
    before = copy.deepcopy(genome)
    G.nodes[0]["bias"] = 0.5
    G.edges[-1, 0]["weight"] = float("nan")
    with pytest.raises(graphbp.ParameterError, match=r"edge \(-1, 0\) has weight nan; it must be a finite number"):
        to_neat(G, genome, config)
    G.edges[-1, 0]["weight"] = 1.0
    G.nodes[0]["bias"] = "big"
    with pytest.raises(graphbp.ParameterError, match="node 0 has bias 'big'; it must be a finite number"):
        to_neat(G, genome, config)
    assert _parameters(genome) == _parameters(before)
    G.nodes[0]["bias"], G.edges[-1, 0]["weight"] = 2, np.int64(3)  # whole numbers of any type are taken, as floats
    written = to_neat(copy.deepcopy(G), copy.deepcopy(genome), config)
    assert type(written.nodes[0].bias) is float and written.nodes[0].bias == 2.0
    weight = written.connections[-1, 0].weight
    assert type(weight) is float and weight * genome.nodes[0].response == pytest.approx(3.0, rel=1e-15)
    with pytest.raises(graphbp.GraphStructureError, match="a network must be a networkx DiGraph, got Graph"):
        to_neat(nx.Graph(G), genome, config)
    G.nodes[0]["bias"] = 0.5
    G.graph["outputs"] = [-2]
    with pytest.raises(graphbp.GraphStructureError, match=r"the graph's outputs \[-2\] are not the genome's \[0\]"):
        to_neat(G, genome, config)
