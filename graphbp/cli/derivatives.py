"""graphbp jacobian FILE and graphbp hessian FILE: the matrix, its spectrum, a heat-map.

FILE is a network saved by graphbp.io.write_json; samples come from --x/--t,
--data or seeded random ones, as for graphbp backprop. The Hessian sums over
the samples; the Jacobian uses sample --sample. A matrix larger than 8 x 8 is
summarised (shape, norm, extreme eigenvalues, largest entries) unless --full.
"""

from __future__ import annotations

import numpy as np

from ..drawing import draw_heatmap
from ..exceptions import ShapeError
from ..forward import forward
from ..hessian import hessian
from ..jacobian import MODES, jacobian
from ..params import parameter_labels
from ._network_input import add_network_arguments, load
from ._options import IMAGE_SUFFIXES, MATRIX_SUFFIXES, integer, output_file

# Larger matrices are summarised: printed whole they wrap across the terminal.
MAX_PRINTED = 8
LARGEST_SHOWN = 5


def save_matrix(matrix: np.ndarray, path: str) -> None:
    if path.lower().endswith(".npy"):
        np.save(path, matrix)
    else:
        np.savetxt(path, matrix, delimiter=",")


def summary(matrix, rows, columns, symmetric: bool) -> list[str]:
    """Shape, Frobenius norm, extreme eigen- and singular values, and the largest entries by |value|."""
    lines = [f"Frobenius norm {np.linalg.norm(matrix):.6g}"]
    if symmetric:
        # eigvalsh reads one triangle: report how far the matrix is from symmetric instead of hiding it
        eigenvalues = np.linalg.eigvalsh((matrix + matrix.T) / 2)
        lines.append(f"eigenvalues from {eigenvalues[0]:.6g} to {eigenvalues[-1]:.6g} "
                     f"(max |H - H^T| = {np.abs(matrix - matrix.T).max():.1e})")
    singular = np.linalg.svd(matrix, compute_uv=False)
    lines.append(f"singular values from {singular[-1]:.6g} to {singular[0]:.6g}")
    flat = np.argsort(-np.abs(matrix), axis=None, kind="stable")[:LARGEST_SHOWN]
    lines.append("largest entries: " + ", ".join(
        f"[{rows[r]}, {columns[c]}] = {matrix[r, c]:.6g}" for r, c in zip(*np.unravel_index(flat, matrix.shape))))
    return lines


def report(matrix, rows, columns, args, title: str, symmetric: bool = False) -> None:
    """Print the matrix and its spectrum, or a summary when it is large or saved; draw its heat-map if asked."""
    print(f"{title}, {matrix.shape[0]} x {matrix.shape[1]}")
    if args.save:
        save_matrix(matrix, args.save)
        print(f"matrix written to {args.save} (rows: {', '.join(rows)}; columns: {', '.join(columns)})")
        print("\n".join(summary(matrix, rows, columns, symmetric)))
    elif args.full or max(matrix.shape) <= MAX_PRINTED:
        with np.printoptions(precision=6, suppress=True, linewidth=150, threshold=matrix.size + 1):
            print(f"rows: {', '.join(rows)}\ncolumns: {', '.join(columns)}")
            print(matrix)
            if symmetric:
                asymmetry = np.abs(matrix - matrix.T).max()
                print(f"eigenvalues (max |H - H^T| = {asymmetry:.1e}):", np.linalg.eigvalsh((matrix + matrix.T) / 2))
            elif matrix.shape[0] == matrix.shape[1]:
                print("eigenvalues:", np.linalg.eigvals(matrix))
            print("singular values:", np.linalg.svd(matrix, compute_uv=False))
    else:
        print("\n".join(summary(matrix, rows, columns, symmetric)))
        print(f"(larger than {MAX_PRINTED} x {MAX_PRINTED}: --full prints every entry, --save writes them)")
    if args.figure:
        import matplotlib

        matplotlib.use("Agg")
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
    if not args.sample < rows.shape[0]:
        raise ShapeError(f"--sample {args.sample} is outside the {rows.shape[0]} rows of the inputs")
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
    parser.add_argument("--save", type=output_file(MATRIX_SUFFIXES),
                        help="write the matrix to a .npy or .csv file instead of printing it")
    parser.add_argument("--figure", type=output_file(IMAGE_SUFFIXES), help="write a heat-map (.png, .svg, .pdf)")
    parser.add_argument("--full", action="store_true",
                        help=f"print every entry of a matrix larger than {MAX_PRINTED} x {MAX_PRINTED}")


def register(subparsers) -> None:
    jac = subparsers.add_parser("jacobian", help="the input-output Jacobian dy/dx at one sample",
                                description=__doc__)
    add_network_arguments(jac, targets=False)
    _outputs(jac)
    jac.add_argument("--mode", choices=MODES, default="auto",
                     help="reverse: one sweep per output; forward: one per input; auto: the fewer (default)")
    jac.add_argument("--sample", type=integer(0), default=0, help="row of the inputs to use (default 0)")
    jac.set_defaults(run=run_jacobian)
    hes = subparsers.add_parser("hessian", help="the exact Hessian of E over all weights and biases",
                                description=__doc__)
    add_network_arguments(hes)
    _outputs(hes)
    hes.set_defaults(run=run_hessian)
