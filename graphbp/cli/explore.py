"""graphbp explore FILE -o page.html: the interactive δ explorer, one self-contained HTML file."""

from __future__ import annotations

from ..backward import backprop
from ..explorer import write_html
from ._network_input import add_network_arguments, load
from ._options import integer, output_file


def run(args) -> int:
    G, x, t = load(args)
    result = backprop(G, x, t, loss=args.loss)
    path = write_html(G, result, args.output, sample=args.sample, max_samples=args.max_samples)
    print(f"wrote {path}: open it in a browser (nothing is fetched; it works offline)")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("explore", help="write an interactive HTML page: click a unit to see eq. 5.56",
                                   description=__doc__)
    add_network_arguments(parser)
    parser.add_argument("-o", "--output", required=True, type=output_file((".html", ".htm")),
                        help="the HTML file to write")
    parser.add_argument("--sample", type=integer(0), default=0, help="the sample shown first (default 0)")
    parser.add_argument("--max-samples", type=integer(1, 10_000), default=100,
                        help="the page's sample selector offers this many samples of a batch (default 100)")
    parser.set_defaults(run=run)
