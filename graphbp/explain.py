"""The eq. 5.55/5.56 expansion of one δ_j, with the numbers filled in.

:func:`explain` answers "where does this δ come from?" for one node and one
sample: the summation set S_j = ``G.successors(j)``, every term w_kj δ_k,
h'(a_j), the loss's direct term for an output, and the result — as plain text
for a terminal and as LaTeX (matplotlib mathtext compatible) for figures,
papers and slides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable

import numpy as np

from .activations import SOFTMAX
from .backward import softmax_backward, successor_sum
from .exceptions import GraphStructureError, ShapeError
from .network import Network, result_network

__all__ = ["Explanation", "explain", "sample_values", "direct_terms", "latex_name"]

# How many terms eq. 5.56 shows written out in LaTeX before eliding the rest.
_LATEX_TERMS = 6


def sample_values(result, sample: int = 0) -> tuple[dict, dict, dict]:
    """The a, z and δ of one sample of a result, as dicts node -> float.

    Parameters
    ----------
    result : BackpropResult
        From :func:`graphbp.backprop`, for one sample (floats) or a batch (arrays).
    sample : int, default 0
        Which sample of a batch; must be 0 for a single-sample result.

    Returns
    -------
    a, z, delta : dict

    Raises
    ------
    ShapeError
        If `sample` is not a sample of the result.

    Examples
    --------
    >>> import networkx as nx
    >>> from graphbp import backprop
    >>> G = nx.DiGraph([("x", "y", {"weight": 2.0})])
    >>> a, z, delta = sample_values(backprop(G, [[1.0], [3.0]], [[0.0], [0.0]]), sample=1)
    >>> a["y"], delta["y"]
    (6.0, 6.0)
    """
    size = np.size(next(iter(result.a.values())))
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or not 0 <= sample < size:
        raise ShapeError(f"sample {sample!r} is not in the result, which holds samples 0..{size - 1}")
    return tuple({n: float(np.atleast_1d(v)[sample]) for n, v in values.items()}
                 for values in (result.a, result.z, result.delta))


def direct_terms(G, net: Network, a: dict, z: dict, delta: dict) -> dict:
    """The outputs' direct terms ∂E_n/∂a_k (eq. 5.54), recovered from one sample's δ.

    δ_k of an output is its direct term plus what flows back through the units
    it feeds (eq. 5.56), so the direct term is δ_k minus that part. For a
    softmax group the part through the group is its Jacobian applied to the
    sums over each member's successors.

    Returns
    -------
    dict
        Output node -> float.
    """
    weight = net.weight
    direct = {}
    output_set = set(net.outputs)
    for unit in net.units:
        if unit[0] not in output_set:
            continue
        through = {j: successor_sum(G, j, delta, weight) for j in unit}
        if net.activation[unit[0]] is SOFTMAX:
            backward = softmax_backward(unit, z, through)
        else:
            (j,) = unit
            backward = {j: float(net.activation[j].derivative(np.asarray(a[j]))) * through[j]}
        direct.update({j: delta[j] - backward[j] for j in unit})
    return direct


def latex_name(node: Hashable) -> str:
    r"""A node name as upright mathtext, special characters escaped.

    Valid for both LaTeX and matplotlib's mathtext; ``#`` and ``&``, which the
    two cannot both typeset escaped, become the look-alikes ♯ and ∧.

    Examples
    --------
    >>> latex_name("h_1"), latex_name((0, 1))
    ('\\mathrm{h\\_1}', '\\mathrm{(0,\\ 1)}')
    """
    escapes = {"\\": r"\backslash ", "{": r"\{", "}": r"\}", "_": r"\_", "^": r"\^{}", "$": r"\$",
               "#": r"\sharp ", "%": r"\%", "&": r"\wedge ", "~": r"\sim ", " ": r"\ "}
    return r"\mathrm{" + "".join(escapes.get(c, c) for c in str(node)) + "}"


def _latex_number(value: float) -> str:
    """A number for mathtext, 4 significant digits, negatives in parentheses."""
    mantissa, _, exponent = f"{value:.4g}".partition("e")
    text = mantissa + (rf"\times 10^{{{int(exponent)}}}" if exponent else "")
    return f"({text})" if value < 0 else text


@dataclass(frozen=True)
class Explanation:
    """Eq. 5.56 for one node and one sample, with every number (see :func:`explain`).

    Attributes
    ----------
    node : hashable
        The node j.
    sample : int
        The sample of the batch explained.
    role : str
        ``"input"``, ``"hidden"`` or ``"output"``.
    activation : str
        Name of h_j (``"identity"`` for an input, ``"softmax"`` in a softmax group).
    a : float
        a_j (x_j for an input).
    derivative : float or None
        h'(a_j); None for a softmax output, whose δ is its direct term alone.
    successors : tuple
        S_j = ``G.successors(j)``, in that order.
    weights, successor_deltas, terms : tuple of float
        w_kj, δ_k and w_kj δ_k for each k in `successors`.
    total : float
        Σ_{k ∈ S_j} w_kj δ_k.
    direct : float
        ∂E_n/∂a_j through y_j itself (eq. 5.54); 0 unless j is an output.
    delta : float
        δ_j = direct + h'(a_j) · total, as backprop computed it.
    """

    node: Hashable
    sample: int
    role: str
    activation: str
    a: float
    derivative: float | None
    successors: tuple
    weights: tuple
    successor_deltas: tuple
    terms: tuple
    total: float
    direct: float
    delta: float

    def text(self) -> str:
        """The expansion as plain text, one line per term."""
        j = f"{self.node!s}"
        if self.role == "input":
            head = f"δ_{j} = ∂E_n/∂x_{j} = Σ_{{k ∈ S_{j}}} w_k{j} δ_k        (eq. 5.55 with h = identity)"
        elif self.role == "output":
            head = f"δ_{j} = ∂E_n/∂a_{j}|direct + h'(a_{j}) · Σ_{{k ∈ S_{j}}} w_k{j} δ_k        (eqs. 5.54, 5.56)"
        else:
            head = f"δ_{j} = h'(a_{j}) · Σ_{{k ∈ S_{j}}} w_k{j} δ_k        (eq. 5.56)"
        lines = [f"node {self.node!r} ({self.role}, sample {self.sample})", head,
                 f"S_{j} = G.successors({self.node!r}) = [{', '.join(repr(k) for k in self.successors)}]"]
        lines += [f"  k = {k!r:>10}:  w_k{j} = {w:+.6g}   δ_k = {d:+.6g}   w·δ = {term:+.6g}"
                  for k, w, d, term in zip(self.successors, self.weights, self.successor_deltas, self.terms)]
        lines.append(f"Σ_k w_k{j} δ_k = {self.total:+.6g}")
        if self.derivative is None:
            lines.append(f"softmax output: δ_{j} is the loss's direct term ∂E_n/∂a_{j} = {self.direct:+.6g}")
        elif self.role == "input":
            lines.append(f"δ_{j} = {self.delta:+.6g}")
        else:
            lines.append(f"h'(a_{j}) = {self.activation}'({self.a:.6g}) = {self.derivative:.6g}")
            direct = f"{self.direct:+.6g} + " if self.role == "output" else ""
            lines.append(f"δ_{j} = {direct}{self.derivative:.6g} × {self.total:+.6g} = {self.delta:+.6g}")
        return "\n".join(lines)

    __str__ = text

    def latex_lines(self) -> list[str]:
        """The expansion as mathtext lines (no ``$``): the equation, S_j, the numbers, the result."""
        j = latex_name(self.node)
        total_sum = rf"\sum_{{k \in S_{{{j}}}}} w_{{k,{j}}}\,\delta_k"
        direct = rf"\partial E_n/\partial a_{{{j}}}"
        members = r",\ ".join(latex_name(k) for k in self.successors)
        shown = [rf"{_latex_number(w)} \times {_latex_number(d)}"
                 for w, d in zip(self.weights[:_LATEX_TERMS], self.successor_deltas[:_LATEX_TERMS])]
        if len(self.terms) > _LATEX_TERMS:
            shown.append(rf"\cdots\ ({len(self.terms)}\ \mathrm{{terms}})")
        numbers = " + ".join(shown) if shown else "0"
        delta = _latex_number(self.delta)
        if self.derivative is None:
            return [rf"\delta_{{{j}}} = {direct} = {delta}"]
        if self.role == "input":
            return [rf"\delta_{{{j}}} = {total_sum}", rf"S_{{{j}}} = \{{{members}\}}",
                    rf"= {numbers} = {delta}"]
        slope = rf"h'(a_{{{j}}})"
        if self.role == "output":
            head = rf"\delta_{{{j}}} = {direct} + {slope}\,{total_sum}"
            lead = f"{_latex_number(self.direct)} + "
        else:
            head = rf"\delta_{{{j}}} = {slope}\,{total_sum}"
            lead = ""
        factor = _latex_number(self.derivative)
        return [head, rf"S_{{{j}}} = \{{{members}\}}",
                rf"= {lead}{factor} \times \left({numbers}\right)",
                rf"= {lead}{factor} \times {_latex_number(self.total)} = {delta}"]

    def latex(self) -> str:
        """The expansion as one LaTeX ``aligned``-free block: mathtext lines joined by newlines."""
        return "\n".join(f"${line}$" for line in self.latex_lines())


def explain(G, result, j: Hashable, sample: int = 0, weight: str = "weight") -> Explanation:
    """Eq. 5.55/5.56 for node `j`: S_j, every term w_kj δ_k, h'(a_j) and δ_j.

    Parameters
    ----------
    G : networkx.DiGraph
        The network `result` was computed on.
    result : BackpropResult
        From :func:`graphbp.backprop`.
    j : hashable
        The node to explain (an input, hidden unit or output).
    sample : int, default 0
        For a batch result, the sample explained.
    weight : str, default "weight"
        Edge attribute holding w_kj.

    Returns
    -------
    Explanation
        A frozen record of the numbers; ``str()`` gives the text, ``.latex()`` mathtext.

    Raises
    ------
    GraphBPError
        If `result` was computed on another graph, or before `G` changed
        (:func:`graphbp.network.result_network`: `G` is not validated again).
    GraphStructureError
        If `j` is not a node of `G`, or `j` is in a softmax group that feeds
        other units (its δ couples the group: no single h'(a_j) exists).
    ShapeError
        If `sample` is not a sample of `result`.

    Examples
    --------
    >>> import networkx as nx
    >>> from graphbp import backprop
    >>> G = nx.DiGraph([("x", "h", {"weight": 0.5}), ("h", "y1", {"weight": 2.0}),
    ...                 ("h", "y2", {"weight": -1.0})])
    >>> e = explain(G, backprop(G, [0.0], [1.0, 0.0]), "h")
    >>> e.successors, e.terms, e.derivative, e.delta     # δ_y1 = −1, δ_y2 = 0
    (('y1', 'y2'), (-2.0, -0.0), 1.0, -2.0)
    >>> print(e.latex_lines()[-1])
    = 1 \\times (-2) = (-2)
    """
    if j not in G:
        raise GraphStructureError(f"node {j!r} is not in the graph")
    net = result_network(G, result, weight)
    a, z, delta = sample_values(result, sample)
    activation = net.activation[j]
    successors = tuple(G.successors(j))
    if activation is SOFTMAX:
        group = next(g for g in net.softmax_groups if j in g)
        if any(G.out_degree(m) for m in group):
            raise GraphStructureError(
                f"node {j!r} is in a softmax group that feeds other units; its δ couples the whole group "
                "through the softmax Jacobian, so there is no single h'(a_j) to explain it with"
            )
    role = "input" if j in net.inputs else "output" if j in net.outputs else "hidden"
    weights = tuple(float(G[j][k][weight]) for k in successors)
    successor_deltas = tuple(delta[k] for k in successors)
    terms = tuple(w * d for w, d in zip(weights, successor_deltas))
    return Explanation(
        node=j,
        sample=sample,
        role=role,
        activation=SOFTMAX if activation is SOFTMAX else activation.name,
        a=a[j],
        derivative=None if activation is SOFTMAX else float(activation.derivative(np.asarray(a[j]))),
        successors=successors,
        weights=weights,
        successor_deltas=successor_deltas,
        terms=terms,
        total=float(sum(terms)),
        direct=direct_terms(G, net, a, z, delta)[j] if role == "output" else 0.0,
        delta=delta[j],
    )
