"""graphbp example NAME -o FILE.json: write one of graphbp's example networks, to try the other commands on."""

from __future__ import annotations

from .. import examples
from ._options import output_file

# name on the command line -> the builder in graphbp.examples
EXAMPLES = {name.removesuffix("_network"): getattr(examples, name) for name in examples.__all__}


def run(args) -> int:
    from ..io import write_json

    G = EXAMPLES[args.name]()
    write_json(G, args.output)
    print(f"wrote {args.output}: graphbp.examples.{EXAMPLES[args.name].__name__}(), "
          f"{G.number_of_nodes()} nodes ({', '.join(map(str, G))}), {G.number_of_edges()} edges")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("example", help="write an example network to a JSON file", description=__doc__)
    parser.add_argument("name", metavar="NAME", choices=list(EXAMPLES),
                        help=f"one of {', '.join(EXAMPLES)}")
    parser.add_argument("-o", "--output", required=True, type=output_file((".json",)),
                        help="the JSON file to write")
    parser.set_defaults(run=run)
