"""Each CLI command end to end on a saved network, and bad input as one line on stderr."""

import subprocess
import sys

import networkx as nx
import numpy as np
import pytest

from graphbp import backprop, irregular_network
from graphbp.generators import random_dag
from graphbp.io import write_json


def graphbp(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "graphbp", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nets")
    write_json(irregular_network(), folder / "irregular.json")
    write_json(random_dag(10, seed=2, n_outputs=2), folder / "randwire.json")
    return folder


def test_backprop_prints_the_deltas(saved):
    run = graphbp("backprop", saved / "irregular.json", "--x", "0.5,-1", "--t", "1,0")
    assert run.returncode == 0, run.stderr
    expected = backprop(irregular_network(), [0.5, -1.0], [1.0, 0.0])
    assert f"E = {expected.loss:.8g}" in run.stdout
    for node in ("h1", "y1", "d"):
        line = next(line for line in run.stdout.splitlines() if line.split()[:1] == [node])
        assert float(line.split()[3]) == pytest.approx(expected.delta[node], abs=1e-6)


def test_backprop_from_a_data_file(saved, tmp_path):
    x, t = np.array([[0.5, -1.0], [0.2, 0.1]]), np.array([[1.0, 0.0], [0.0, 0.5]])
    np.savez(tmp_path / "data.npz", x=x, t=t)
    np.savetxt(tmp_path / "data.csv", np.hstack([x, t]), delimiter=",")
    expected = backprop(irregular_network(), x, t)
    for data in ("data.npz", "data.csv"):
        run = graphbp("backprop", saved / "irregular.json", "--data", tmp_path / data, "--sample", "1")
        assert run.returncode == 0, run.stderr
        assert f"E = {expected.loss:.8g}" in run.stdout


def test_explain_with_paths_on_int_node_names(saved):
    run = graphbp("explain", saved / "randwire.json", "3", "--paths", "--seed", "4")
    assert run.returncode == 0, run.stderr
    assert "S_3 = G.successors(3)" in run.stdout
    summed = next(line for line in run.stdout.splitlines() if line.startswith("sum over paths"))
    total, delta = (float(part.split("=")[1]) for part in summed.split(";"))
    assert total == pytest.approx(delta, rel=1e-9)
    forward = next(line for line in run.stdout.splitlines() if line.startswith("forward mode"))
    assert float(forward.rsplit("=", 1)[1]) == pytest.approx(delta, rel=1e-9)


def test_explain_latex(saved):
    run = graphbp("explain", saved / "irregular.json", "y1", "--latex")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[1].startswith(r"$\delta_{\mathrm{y1}} = \partial E_n/\partial a_{\mathrm{y1}}")


def test_check_passes_and_reports(saved):
    run = graphbp("check", saved / "randwire.json", "--samples", "3")
    assert run.returncode == 0, run.stderr
    assert "PASSED" in run.stdout and "central differences" in run.stdout


def test_draw_writes_a_png(saved, tmp_path):
    for extra in (["--highlight", "h1"], ["--paths", "h1"], ["--edges", "grad", "--edge-labels"]):
        out = tmp_path / f"{extra[0].strip('-')}.png"
        run = graphbp("draw", saved / "irregular.json", "-o", out, *extra)
        assert run.returncode == 0, run.stderr
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("command", ["demo", "backprop", "explain", "check", "draw"])
def test_help(command):
    run = graphbp(command, "--help")
    assert run.returncode == 0 and "usage: graphbp " + command in run.stdout


def _bad_inputs(folder):
    (folder / "malformed.json").write_text('{"directed": true, "nodes": [')
    cyclic = irregular_network()
    write_json(cyclic, folder / "cyclic.json")
    text = (folder / "cyclic.json").read_text()
    import json
    data = json.loads(text)
    key = "links" if "links" in data else "edges"
    data[key].append({**data[key][0], "source": "y2", "target": "x1"})
    (folder / "cyclic.json").write_text(json.dumps(data))
    return {
        "missing file": (["backprop", folder / "nope.json"], "cannot read"),
        "malformed JSON": (["check", folder / "malformed.json"], "malformed JSON"),
        "cyclic graph": (["draw", folder / "cyclic.json", "-o", folder / "c.png"], "cycle"),
        "unknown node": (["explain", folder / "good.json", "h9"], "unknown node 'h9'; did you mean h3, h2, h1?"),
        "bad --x": (["backprop", folder / "good.json", "--x", "0.5,abc"], "argument --x: expected numbers separated by commas"),
        "wrong --x length": (["backprop", folder / "good.json", "--x", "0.5"], "x has shape"),
        "sample outside": (["backprop", folder / "good.json", "--sample", "4"], "sample 4 is not in the result"),
        "too many paths": (["explain", folder / "good.json", "x1", "--paths", "--max-paths", "2"], "max_paths=2"),
    }


@pytest.mark.parametrize("case", ["missing file", "malformed JSON", "cyclic graph", "unknown node", "bad --x",
                                  "wrong --x length", "sample outside", "too many paths"])
def test_bad_input_is_one_line_on_stderr(case, tmp_path):
    write_json(irregular_network(), tmp_path / "good.json")
    args, message = _bad_inputs(tmp_path)[case]
    run = graphbp(*args)
    assert run.returncode != 0
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert message in run.stderr


def test_node_argument_resolved_by_str_then_repr(tmp_path):
    G = nx.DiGraph([("x", 1, {"weight": 1.0}), ("x", "1", {"weight": 1.0}), (1, "y", {"weight": 1.0}),
                    ("1", "y", {"weight": 1.0})])
    write_json(G, tmp_path / "g.json")
    run = graphbp("explain", tmp_path / "g.json", "1")           # repr first: the int node
    assert run.returncode == 0 and "node 1 (hidden" in run.stdout
    run = graphbp("explain", tmp_path / "g.json", "'1'")
    assert run.returncode == 0 and "node '1' (hidden" in run.stdout
