"""``graphbp jacobian FILE`` and ``graphbp hessian FILE``: the matrix, its spectrum, a heat-map.

FILE is a network saved by :func:`graphbp.io.write_json`; samples come from
``--x``/``--t``, ``--data`` or seeded random ones, as for ``graphbp backprop``.
The Hessian sums over the samples; the Jacobian uses sample ``--sample``.
"""

from __future__ import annotations

import numpy as np

from ..drawing import draw_heatmap
from ..exceptions import GraphBPError, ShapeError
from ..forward import forward
from ..hessian import hessian
from ..jacobian import MODES, jacobian
from ..params import parameter_labels
from ._network_input import add_network_arguments, load


def save_matrix(matrix: np.ndarray, path: str) -> None:
    if path.endswith(".npy"):
        np.save(path, matrix)
    elif path.endswith(".csv"):
        np.savetxt(path, matrix, delimiter=",")
    else:
        raise GraphBPError(f"--save {path!r}: use a .npy or .csv file name")


def report(matrix, rows, columns, args, title: str, symmetric: bool = False) -> None:
    """Print the matrix and its spectrum; save it and its heat-map if asked."""
    with np.printoptions(precision=6, suppress=True, linewidth=150):
        print(f"{title}, {matrix.shape[0]} x {matrix.shape[1]}")
        print(f"rows: {', '.join(rows)}\ncolumns: {', '.join(columns)}")
        print(matrix)
        if symmetric:
            # eigvalsh reads one triangle: report how far H is from symmetric instead of hiding it
            asymmetry = np.abs(matrix - matrix.T).max()
            print(f"eigenvalues (max |H - H^T| = {asymmetry:.1e}):", np.linalg.eigvalsh((matrix + matrix.T) / 2))
        elif matrix.shape[0] == matrix.shape[1]:
            print("eigenvalues:", np.linalg.eigvals(matrix))
        print("singular values:", np.linalg.svd(matrix, compute_uv=False))
    if args.save:
        save_matrix(matrix, args.save)
    if args.figure:
        import matplotlib.pyplot as plt

        size = max(4.0, 0.28 * max(matrix.shape) + 2.5)
        fig, ax = plt.subplots(figsize=(size, size))
        draw_heatmap(matrix, rows, columns, ax=ax, title=title)
        fig.tight_layout()
        fig.savefig(args.figure, dpi=100)
        plt.close(fig)
        print(f"heat-map written to {args.figure}")


def run_jacobian(args) -> int:
    G, x, _ = load(args)
    rows = np.atleast_2d(x)
    if not 0 <= args.sample < rows.shape[0]:
        raise ShapeError(f"--sample {args.sample} is outside the {rows.shape[0]} rows of --x")
    x = rows[args.sample]
    J = jacobian(G, x, mode=args.mode)
    result = forward(G, x)
    report(J, [str(k) for k in result.outputs], [str(i) for i in result.inputs], args, "Jacobian dy/dx")
    return 0


def run_hessian(args) -> int:
    G, x, t = load(args)
    H = hessian(G, x, t, loss=args.loss)
    labels = parameter_labels(G)
    report(H, labels, labels, args, f"Hessian of E ({args.loss})", symmetric=True)
    return 0


def _outputs(parser) -> None:
    add_network_arguments(parser)
    parser.add_argument("--save", help="write the matrix to a .npy or .csv file")
    parser.add_argument("--figure", help="write a heat-map PNG")


def register(subparsers) -> None:
    jac = subparsers.add_parser("jacobian", help="the input-output Jacobian dy/dx at one sample",
                                description=__doc__)
    _outputs(jac)
    jac.add_argument("--mode", choices=MODES, default="auto", help="sweeps per output (reverse) or per input (forward)")
    jac.add_argument("--sample", type=int, default=0, help="row of --x to use when it has several")
    jac.set_defaults(run=run_jacobian)
    hes = subparsers.add_parser("hessian", help="the exact Hessian of E over all weights and biases",
                                description=__doc__)
    _outputs(hes)
    hes.set_defaults(run=run_hessian)
