"""What the network commands share: reading FILE, the inputs and targets, and resolving a NODE argument."""

from __future__ import annotations

import difflib
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ..exceptions import GraphStructureError, ShapeError
from ..io import read_json
from ..losses import get_loss, loss_names
from ..network import read_network
from ._options import DATA_SUFFIXES, input_file, integer, numbers

# Random samples a command may invent (--samples): enough for any check, few enough to stay quick.
MAX_SAMPLES = 1000

__all__ = ["add_network_arguments", "read_network_file", "load", "resolve_node"]


def add_network_arguments(parser, targets: bool = True) -> None:
    """FILE, the sample options and (when the command uses targets) --t and the loss."""
    parser.add_argument("file", metavar="FILE", help="a network saved with graphbp.io.write_json, or plain "
                                                      "networkx node-link JSON (nx.node_link_data)")
    given = parser.add_argument_group("inputs and targets (default: seeded random ones, printed)")
    given.add_argument("--x", type=numbers, help='one sample\'s inputs, comma separated: --x "0.5,-1"')
    if targets:
        given.add_argument("--t", type=numbers, help='one sample\'s targets, comma separated: --t "1,0"')
    given.add_argument("--data", metavar="DATA", type=input_file(DATA_SUFFIXES),
                       help="a .npz file with arrays x and t, or a .csv file whose rows are x then t")
    given.add_argument("--seed", type=integer(0), default=0, help="seed of the random inputs and targets (default 0)")
    given.add_argument("--samples", type=integer(1, MAX_SAMPLES), default=1,
                       help=f"number of random samples, 1 to {MAX_SAMPLES} (default 1)")
    if targets:
        parser.add_argument("--loss", default="sum_of_squares", choices=loss_names(),
                            help="the error function (default sum_of_squares)")


def _read_data(path: str, net) -> tuple[np.ndarray, np.ndarray]:
    if Path(path).suffix.lower() == ".npz":
        try:
            with np.load(path) as data:
                missing = {"x", "t"} - set(data.files)
                if missing:
                    raise ShapeError(f"{path} has arrays {data.files}; it needs x and t")
                return data["x"], data["t"]
        except (ValueError, zipfile.BadZipFile) as err:
            raise ShapeError(f"{path} is not an .npz file of arrays x and t: {err}") from None
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


def read_network_file(path: str, command: str):
    """:func:`graphbp.io.read_json`, its warnings (plain networkx node-link data) one line each on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        G = read_json(path)
    for warning in caught:
        print(f"graphbp {command}: note: {path}: {warning.message}", file=sys.stderr)
    return G


def load(args):
    """The network of ``args.file`` and its samples: returns (G, x, t) ready for :func:`graphbp.backprop`.

    Inputs or targets the user did not give are drawn from ``--seed`` and
    printed, so a run can be repeated with the same numbers.
    """
    G = read_network_file(args.file, args.command)
    net = read_network(G)
    rng = np.random.default_rng(args.seed)
    given_t = getattr(args, "t", None)
    if args.data:
        return (G, *_read_data(args.data, net))
    samples = 1 if (args.x is not None or given_t is not None) else args.samples
    x = args.x if args.x is not None else rng.normal(size=(samples, len(net.inputs)))
    loss = get_loss(getattr(args, "loss", "sum_of_squares"))
    t = given_t if given_t is not None else _random_targets(net, loss, rng, samples)
    if args.x is not None and given_t is None:
        t = t[0]
    if given_t is not None and args.x is None:
        x = x[0]
    invented = [name for name, value in (("x", args.x), ("t", given_t)) if value is None and hasattr(args, name)]
    if invented:
        shown = {"x": x, "t": t}
        with np.printoptions(precision=6, suppress=True, threshold=20, linewidth=120):
            print("; ".join(f"{name} = {np.round(shown[name], 6).tolist() if shown[name].size <= 20 else shown[name]}"
                            for name in invented)
                  + f"  (seeded random, --seed {args.seed}; give --x/--t or --data to choose)")
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
