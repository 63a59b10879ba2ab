"""Each CLI command end to end on a saved network, and bad input as one line on stderr."""

import json
import os
import re
import subprocess
import sys

import networkx as nx
import numpy as np
import pytest

from graphbp import backprop, irregular_network
from graphbp.generators import random_dag
from graphbp.io import write_json


def graphbp(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "graphbp", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


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


@pytest.mark.parametrize("command", ["demo", "gallery", "backprop", "explain", "check", "draw", "train"])
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


@pytest.mark.parametrize("x, t", [("-1,0.5", "1,0"), ("-1e-3,-.5", "-1E+1,-2")])
def test_values_starting_with_a_minus_are_read_as_numbers(saved, x, t):
    run = graphbp("backprop", saved / "irregular.json", "--x", x, "--t", t, "--sample", "0")
    assert run.returncode == 0, run.stderr
    expected = backprop(irregular_network(), [float(v) for v in x.split(",")], [float(v) for v in t.split(",")])
    assert f"E = {expected.loss:.8g}" in run.stdout
    assert run.stdout == graphbp("backprop", saved / "irregular.json", f"--x={x}", f"--t={t}").stdout


def test_bare_graphbp_lists_the_commands_one_line_each():
    terminal = {**os.environ, "COLUMNS": "80"}
    run = graphbp(env=terminal)
    assert run.returncode == 0 and run.stderr == ""
    assert run.stdout == graphbp("--help", env=terminal).stdout
    listed = run.stdout.split("  COMMAND\n")[1].split("\n\n")[0].splitlines()
    commands = [line.split()[0] for line in listed]
    assert commands == ["example", "demo", "backprop", "explain", "check", "draw", "jacobian", "hessian", "train",
                        "explore", "gallery"]
    assert all(len(line.split()) > 2 for line in listed)  # each with its description, on the same line


@pytest.mark.parametrize("edges_key", ["edges", "links"])
def test_plain_node_link_file_loads_with_a_note(tmp_path, edges_key):
    G = irregular_network()
    (tmp_path / "plain.json").write_text(json.dumps(nx.node_link_data(G, edges=edges_key)))
    run = graphbp("backprop", tmp_path / "plain.json", "--x", "0.5,-1", "--t", "1,0")
    assert run.returncode == 0, run.stderr
    assert f"E = {backprop(G, [0.5, -1.0], [1.0, 0.0]).loss:.8g}" in run.stdout
    note, = run.stderr.splitlines()
    assert note.startswith(f"graphbp backprop: note: {tmp_path / 'plain.json'}: plain networkx node-link data")


def test_plain_node_link_file_without_a_weight_names_the_edge(tmp_path):
    (tmp_path / "plain.json").write_text(json.dumps(nx.node_link_data(nx.DiGraph([("x", "h"), ("h", "y")]))))
    run = graphbp("check", tmp_path / "plain.json")
    assert run.returncode == 2 and "note: " in run.stderr
    assert run.stderr.splitlines()[-1] == "graphbp check: error: edge ('x', 'h') has no 'weight' attribute"


def _svg_texts(path):
    """The text of an SVG written with text kept as text (svg.fonttype: none)."""
    return " ".join(re.sub(r"<[^>]+>", " ", path.read_text()).split())


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    folder = tmp_path_factory.mktemp("large")
    G = random_dag(56, seed=1, n_inputs=2, n_outputs=2)
    write_json(G, folder / "large.json")
    (folder / "matplotlibrc").write_text("svg.fonttype: none\n")
    return folder, backprop(G, [0.5, -1.0], [1.0, 0.0])


@pytest.mark.parametrize("labels", [None, "all", "none"])
def test_draw_says_when_labels_are_left_out_and_can_force_them(large, labels, monkeypatch):
    folder, result = large
    monkeypatch.setenv("MATPLOTLIBRC", str(folder / "matplotlibrc"))
    out = folder / f"{labels}.svg"
    run = graphbp("draw", folder / "large.json", "-o", out, "--x", "0.5,-1", "--t", "1,0",
                  *(["--labels", labels] if labels else []))
    assert run.returncode == 0, run.stderr
    text = _svg_texts(out)
    note = "60 nodes: names and δ values left out above 40 nodes (graphbp draw --labels all writes them)"
    assert (note in text) == (labels is None)
    written = re.findall(r"δ=(\S+)", text)
    if labels == "all":  # every δ that had room, with the value backprop gives
        assert len(written) > 40
        deltas = {f"{v:.3g}" for v in result.delta.values()}
        assert set(written) <= deltas and "y1" in text.split()
    else:
        assert written == [] and "y1" not in text.split()


def test_draw_labels_apply_to_the_delta_drawing_only(saved, tmp_path):
    run = graphbp("draw", saved / "irregular.json", "-o", tmp_path / "p.png", "--paths", "h1", "--labels", "all")
    assert run.returncode == 2 and "--labels all applies to the δ drawing, not to --paths" in run.stderr
    assert not (tmp_path / "p.png").exists()
