"""graphbp train: fit a network to a generated data set; write figures, history and the trained network.

The defaults (L-BFGS-B, 200 iterations) suit these small data sets; graphbp.train
in Python defaults to adam for 100 epochs. Without --out, the files go to a new
folder train-DATASET (train-DATASET-2, ... when it exists).

With --validation-split, the training loss and accuracy are those of the training
samples only, and the held-out samples get their own line: final validation loss
and accuracy, and the epoch of the lowest validation loss. history.json holds the
same: accuracy (training samples), validation_accuracy, final_validation_loss,
best_validation_epoch, best_validation_loss, training_samples, validation_samples.

Examples:

    graphbp train --dataset sin --layers 1,3,1 --out sin-run
    graphbp train --dataset spiral --random-dag watts_strogatz:20 --epochs 400
    graphbp train --dataset moons --layers 2,8,1 --optimizer adam --lr 0.05 --batch-size 20 --epochs 200
    graphbp train --dataset xor --network my_net.json --optimizer BFGS
    graphbp train --dataset spiral --random-dag watts_strogatz:300:k=20 --engine compiled
    graphbp train --dataset digits --validation-split 0.25 --epochs 100
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import time
from pathlib import Path

import numpy as np

from .. import datasets
from ..exceptions import GraphBPError
from ..generators import mlp, random_dag
from ..io import write_json
from ..network import read_network
from ..optimizers import get_optimizer, optimizer_names
from ..training import ENGINES, SCIPY_METHODS, accuracy, split_rows, train
from ._network_input import read_network_file
from ._options import integer, real

MAX_SAMPLES = 100_000
MAX_EPOCHS = 1_000_000
MAX_RANDOM_DAG = 5_000
MAX_LAYER = 1_000

# dataset -> (generator of (x, t) from n and seed, loss, output activation, default layer sizes)
DATASETS = {
    "xor": (lambda n, seed: datasets.xor(), "bce", "logistic", "2,2,1"),
    **{
        kind: (lambda n, seed, kind=kind: datasets.bishop_fig53(kind, n or 50, seed), "sse", "identity", "1,3,1")
        for kind in datasets.BISHOP_FIG53_FUNCTIONS
    },
    "moons": (lambda n, seed: datasets.two_moons(n or 200, seed=seed), "bce", "logistic", "2,8,1"),
    "circles": (lambda n, seed: datasets.circles(n or 200, seed=seed), "bce", "logistic", "2,8,1"),
    "spiral": (lambda n, seed: datasets.spiral(n or 300, seed=seed), "ce", "softmax", "2,16,3"),
    "digits": (lambda n, seed: datasets.digits(n, seed), "ce", "softmax", "64,32,10"),
}


def _layer_sizes(text: str, x, t) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise GraphBPError(f"--layers takes comma-separated ints like 2,3,1, got {text!r}") from None
    if not all(1 <= size <= MAX_LAYER for size in sizes):
        raise GraphBPError(f"--layers {text}: each layer needs 1 to {MAX_LAYER} units")
    if len(sizes) < 2 or sizes[0] != x.shape[1] or sizes[-1] != t.shape[1]:
        raise GraphBPError(
            f"--layers {text}: this data set needs {x.shape[1]} inputs first and {t.shape[1]} outputs last"
        )
    return sizes


def random_dag_spec(text: str) -> tuple[str, int, dict]:
    """KIND:N[:name=value...] -> (kind, n, parameters); random_dag checks the kind and the parameters."""
    kind, _, rest = text.partition(":")
    size, *pairs = rest.split(":") if rest else [""]
    try:
        params = {}
        for pair in pairs:
            name, value = pair.split("=")
            params[name] = float(value) if name == "p" else int(value)
        n = int(size)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected KIND:N or KIND:N:name=value, e.g. watts_strogatz:30:k=4:p=0.75; got {text!r}"
        ) from None
    if not 1 <= n <= MAX_RANDOM_DAG:
        raise argparse.ArgumentTypeError(f"N must be from 1 to {MAX_RANDOM_DAG}, got {text!r}")
    return kind, n, params


def build_network(args, x, t, output_activation: str):
    """The network the options ask for: a saved file, a random DAG, or layers (the dataset's default)."""
    if args.network:
        return read_network_file(args.network, args.command)
    if args.random_dag:
        kind, n, params = args.random_dag
        return random_dag(
            n, kind, n_inputs=x.shape[1], n_outputs=t.shape[1], activation=args.activation,
            output_activation=output_activation, seed=args.seed, **params,
        )
    sizes = _layer_sizes(args.layers or DATASETS[args.dataset][3], x, t)
    return mlp(sizes, activation=args.activation, output_activation=output_activation, seed=args.seed)


def choose_optimizer(args):
    """A scipy method name, or a first-order optimizer with the chosen learning rate."""
    if args.optimizer in SCIPY_METHODS:
        if args.lr is not None or args.batch_size is not None:
            raise GraphBPError(f"--lr and --batch-size apply to {', '.join(optimizer_names())}, not {args.optimizer}")
        return args.optimizer
    return get_optimizer(args.optimizer, args.lr)


def scores(G, x, t, history, train_rows, validation_rows, classes: bool) -> dict:
    """Final loss and accuracy on the training rows, and when some are held out, the same on them
    and the epoch of the lowest validation loss (entry 0 is the untrained network)."""
    summary = {"final_loss": float(history.loss[-1]), "training_samples": int(train_rows.size)}
    if classes:
        summary["accuracy"] = accuracy(G, x[train_rows], t[train_rows])
    if validation_rows.size:
        best = int(np.argmin(history.validation_loss))
        summary.update(validation_samples=int(validation_rows.size),
                       final_validation_loss=float(history.validation_loss[-1]),
                       best_validation_epoch=best, best_validation_loss=float(history.validation_loss[best]))
        if classes:
            summary["validation_accuracy"] = accuracy(G, x[validation_rows], t[validation_rows])
    return summary


def score_lines(summary: dict) -> list[str]:
    """The scores of :func:`scores` as printed: the training part of the first line, then the validation line."""
    training = f"final mean loss {summary['final_loss']:.4g}"
    if "accuracy" in summary:
        training += f", training accuracy {summary['accuracy']:.1%}"
    if "validation_samples" not in summary:
        return [training]
    training += f" ({summary['training_samples']} training samples)"
    validation = (f"validation ({summary['validation_samples']} held out): "
                  f"final mean loss {summary['final_validation_loss']:.4g}")
    if "validation_accuracy" in summary:
        validation += f", accuracy {summary['validation_accuracy']:.1%}"
    validation += (f"; lowest validation loss {summary['best_validation_loss']:.4g} "
                   f"at epoch {summary['best_validation_epoch']}")
    return [training, validation]


def write_history(history, folder: Path, summary: dict) -> None:
    rows = history.rows()
    with open(folder / "history.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (folder / "history.json").write_text(json.dumps({**summary, "epochs": rows}, indent=1), encoding="utf-8")


def write_figures(G, start, x, t, loss, history, folder: Path, title: str) -> list[Path]:
    import matplotlib.pyplot as plt

    from ..training_plots import plot_decision_regions, plot_deltas_before_after, plot_fit, plot_loss

    written = []
    if G.number_of_nodes() <= 60:
        figure, axes = plt.subplots(1, 2, figsize=(12, 4.2))
        plot_deltas_before_after(start, G, x, t, loss=loss, axes=axes)
        written.append(folder / "deltas_before_after.png")
        figure.savefig(written[-1], dpi=100, bbox_inches="tight")
        plt.close(figure)
    figure, ax = plt.subplots(figsize=(6, 4.5))
    plot_loss(history, ax=ax)
    written.append(folder / "loss.png")
    figure.savefig(written[-1], dpi=100, bbox_inches="tight")
    plt.close(figure)
    if x.shape[1] in (1, 2):
        figure, ax = plt.subplots(figsize=(6, 4.5))
        if x.shape[1] == 1:
            plot_fit(G, x, t, ax=ax, hidden=len(read_network(G).hidden) <= 6)
            ax.legend(fontsize=8)
            written.append(folder / "fit.png")
        else:
            plot_decision_regions(G, x, t, ax=ax)
            written.append(folder / "decision_regions.png")
        ax.set_title(title)
        figure.savefig(written[-1], dpi=100, bbox_inches="tight")
        plt.close(figure)
    return written


def run(args) -> int:
    make_data, loss, output_activation, _ = DATASETS[args.dataset]
    if args.dataset == "xor" and args.samples is not None:
        raise GraphBPError("xor has exactly 4 samples; leave out --samples")
    x, t = make_data(args.samples, args.seed)
    G = build_network(args, x, t, output_activation)
    optimizer = choose_optimizer(args)
    loss = args.loss or loss
    untrained = copy.deepcopy(G)
    start = time.perf_counter()
    history = train(
        G, x, t, loss, optimizer, epochs=args.epochs, max_evaluations=args.max_evaluations,
        batch_size=args.batch_size, validation_split=args.validation_split, seed=args.seed,
        progress=not args.no_progress, engine=args.engine,
    )
    seconds = time.perf_counter() - start
    _, train_rows, validation_rows = split_rows(x, args.validation_split, args.seed)
    summary = {
        "dataset": args.dataset, "loss_name": loss, "optimizer": history.optimizer, "message": history.message,
        **scores(G, x, t, history, train_rows, validation_rows, classes=loss not in ("sse", "sum_of_squares")),
        "seconds": seconds, "parameters": int(G.number_of_edges() + len(read_network(G).bias)),
    }
    folder = Path(args.out) if args.out else new_folder(args.dataset)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(G, folder / "network.json")
    write_history(history, folder, summary)
    figures = write_figures(G, untrained, x, t, loss, history, folder, f"{args.dataset}: {history.optimizer.split('(')[0]}")
    training, *validation = score_lines(summary)
    print(f"{args.dataset}: {summary['parameters']} parameters, {len(history.epoch) - 1} epochs, {training}, "
          f"{seconds:.2f} s ({history.message})")
    for line in validation:
        print(line)
    print("wrote " + ", ".join(str(p) for p in [folder / "network.json", folder / "history.csv",
                                                 folder / "history.json", *figures]))
    return 0


def new_folder(dataset: str) -> Path:
    """The first of train-DATASET, train-DATASET-2, ... that does not exist yet."""
    candidates = (Path(f"train-{dataset}" + (f"-{k}" if k > 1 else "")) for k in range(1, 10**6))
    return next(path for path in candidates if not path.exists())


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train on a generated data set; write figures, history, network",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dataset", choices=list(DATASETS), default="sin", help="data set (default sin)")
    parser.add_argument("--samples", type=integer(1, MAX_SAMPLES),
                        help=f"number of samples, 1 to {MAX_SAMPLES} (default: the data set's)")
    architecture = parser.add_mutually_exclusive_group()
    architecture.add_argument("--layers", help="layer sizes, e.g. 1,3,1 (default: per data set)")
    architecture.add_argument("--random-dag", metavar="KIND:N", type=random_dag_spec, help="a random DAG, e.g. watts_strogatz:30")
    architecture.add_argument("--network", metavar="FILE.json",
                              help="a network saved by graphbp, or plain networkx node-link JSON")
    parser.add_argument("--activation", default="tanh", help="hidden activation of built networks (default tanh)")
    parser.add_argument("--loss", help="sse, bce or ce (default: per data set)")
    parser.add_argument(
        "--optimizer", choices=[*optimizer_names(), *SCIPY_METHODS], default="L-BFGS-B",
        help="first-order optimizer or scipy method (default L-BFGS-B)",
    )
    parser.add_argument("--epochs", type=integer(1, MAX_EPOCHS), default=200,
                        help=f"epochs / iterations, 1 to {MAX_EPOCHS} (default 200)")
    parser.add_argument("--max-evaluations", type=integer(1), help="budget of gradient evaluations")
    parser.add_argument("--lr", type=real(0, 10, open_low=True), help="learning rate of gd, momentum, adam, in (0, 10]")
    parser.add_argument("--batch-size", type=integer(1), help="mini-batch size (default: all samples)")
    parser.add_argument("--validation-split", type=real(0, 1, open_high=True), default=0.0,
                        help="held-out fraction, in [0, 1) (default 0)")
    parser.add_argument(
        "--engine", choices=ENGINES, default="auto",
        help="what computes the gradients: reference, compiled, or auto (compiled from 1000 edges; default)",
    )
    parser.add_argument("--seed", type=integer(0), default=0, help="seed of data, network and batches (default 0)")
    parser.add_argument("--out", help="output folder (default: a new folder train-DATASET)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)
