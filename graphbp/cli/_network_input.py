"""What the network commands share: reading FILE, the inputs and targets, and resolving a NODE argument."""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np

from ..exceptions import GraphStructureError, ShapeError
from ..losses import get_loss, loss_names
from ..network import read_network

__all__ = ["add_network_arguments", "load", "resolve_node"]


def add_network_arguments(parser) -> None:
    """FILE, the sample options and the loss, as every network command takes them."""
    parser.add_argument("file", metavar="FILE", help="a network saved with graphbp.io.write_json")
    given = parser.add_argument_group("inputs and targets (default: seeded random ones)")
    given.add_argument("--x", help='one sample\'s inputs, comma separated: --x "0.5,-1"')
    given.add_argument("--t", help='one sample\'s targets, comma separated: --t "1,0"')
    given.add_argument("--data", metavar="DATA",
                       help="a .npz file with arrays x and t, or a .csv file whose rows are x then t")
    given.add_argument("--seed", type=int, default=0, help="seed of the random inputs and targets (default 0)")
    given.add_argument("--samples", type=int, default=1, help="number of random samples (default 1)")
    parser.add_argument("--loss", default="sum_of_squares", choices=loss_names(),
                        help="the error function (default sum_of_squares)")


def _numbers(text: str, option: str) -> np.ndarray:
    try:
        return np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise ShapeError(f"{option} must be numbers separated by commas, got {text!r}") from None


def _read_data(path: str, net) -> tuple[np.ndarray, np.ndarray]:
    if Path(path).suffix == ".npz":
        with np.load(path) as data:
            missing = {"x", "t"} - set(data.files)
            if missing:
                raise ShapeError(f"{path} has arrays {data.files}; it needs x and t")
            return data["x"], data["t"]
    try:
        rows = np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError as err:
        raise ShapeError(f"{path} is not a CSV of numbers: {err}") from None
    width = len(net.inputs) + len(net.outputs)
    if rows.shape[1] != width:
        raise ShapeError(f"{path} has {rows.shape[1]} columns; expected {len(net.inputs)} inputs "
                         f"then {len(net.outputs)} targets = {width}")
    return rows[:, : len(net.inputs)], rows[:, len(net.inputs):]


def _random_targets(net, loss, rng, samples: int) -> np.ndarray:
    """Targets that fit the loss: real numbers, 0/1 labels, or one-hot rows per softmax group."""
    if loss.name == "binary_cross_entropy":
        return rng.integers(0, 2, size=(samples, len(net.outputs))).astype(float)
    if loss.name == "cross_entropy":
        T = np.zeros((samples, len(net.outputs)))
        column = {node: k for k, node in enumerate(net.outputs)}
        for group in net.softmax_groups:
            chosen = rng.integers(0, len(group), size=samples)
            T[np.arange(samples), [column[group[c]] for c in chosen]] = 1.0
        return T
    return rng.normal(size=(samples, len(net.outputs)))


def load(args):
    """The network of ``args.file`` and its samples: returns (G, x, t) ready for :func:`graphbp.backprop`."""
    from ..io import read_json

    G = read_json(args.file)
    net = read_network(G)
    rng = np.random.default_rng(args.seed)
    if args.data:
        x, t = _read_data(args.data, net)
    else:
        samples = 1 if (args.x or args.t) else args.samples
        x = _numbers(args.x, "--x") if args.x else rng.normal(size=(samples, len(net.inputs)))
        t = _numbers(args.t, "--t") if args.t else _random_targets(net, get_loss(args.loss), rng, samples)
        if args.x and not args.t:
            t = t[0]
        if args.t and not args.x:
            x = x[0]
    return G, x, t


def resolve_node(G, text: str):
    """The node of `G` written `text` (its ``str`` or ``repr``), so ``3`` finds the int node 3.

    Raises
    ------
    GraphStructureError
        No node is written so (the closest names are suggested), or several are
        and their ``repr`` does not tell them apart.
    """
    by_str = [n for n in G if str(n) == text]
    by_repr = [n for n in G if repr(n) == text]
    found = by_repr or by_str
    if len(found) == 1:
        return found[0]
    if found:
        raise GraphStructureError(f"{text!r} names several nodes: {', '.join(repr(n) for n in found)}; "
                                  "write the one you mean as its repr, e.g. \"'3'\" for the string")
    near = difflib.get_close_matches(text, [str(n) for n in G], n=5, cutoff=0.4)
    hint = f"; did you mean {', '.join(near)}?" if near else f"; nodes are {', '.join(str(n) for n in list(G)[:20])}"
    raise GraphStructureError(f"unknown node {text!r}{hint}")
