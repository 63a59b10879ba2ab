"""Second derivatives of E with respect to all weights and biases (Bishop PRML §5.4).

Parameters θ are ordered as in :func:`graphbp.params.parameter_keys` (weights
grouped by the unit they feed, then biases).

**Exact Hessian-vector products by the R-operator** (Pearlmutter 1994; Bishop
§5.4.6). R{·} = v·∇_θ{·} is the directional derivative along v; it is applied to
every line of the forward and backward passes (Bishop's eqs. 5.98-5.106 for two
layers; here on any DAG):

- R-forward, topological order::

      R{a_j} = v_bj + Σ_{i ∈ pred(j)} (v_ji z_i + w_ji R{z_i}),     R{z_j} = h'(a_j) R{a_j}

  This is :func:`graphbp.forward.tangent_sweep` seeded with v_bj + Σ_i v_ji z_i.
- R-backward, reverse topological order::

      R{δ_j} = h'(a_j) Σ_{k ∈ succ(j)} w_kj R{δ_k}
               + h''(a_j) R{a_j} Σ_k w_kj δ_k  +  h'(a_j) Σ_k v_kj δ_k  +  R{direct_j}

  R{δ} obeys the δ recursion (5.56) with other sources, so it is
  :func:`graphbp.backward.backward_sweep` with the last three terms as `direct`;
  R{direct_k} = Σ_l (∂²E_n/∂a_k∂a_l) R{a_l} uses the loss's ``output_curvature``.
- Then R{∂E/∂w_ji} = Σ_n (R{δ_j} z_i + δ_j R{z_i}) and R{∂E/∂b_j} = Σ_n R{δ_j}.

One product costs O(W) like a gradient. :func:`hessian` runs W of them (the
directions e_1..e_W side by side as the rows of one array), so it is exact to
rounding; it is *not* symmetrised: :func:`compare_hessians` reports H − Hᵀ.

**Approximations** (for comparison, :func:`compare_hessians`):

- :func:`outer_product_hessian`: the Gauss-Newton (Levenberg-Marquardt) matrix
  Σ_n J_nᵀ Λ_n J_n with J_n = ∂a_out/∂θ and Λ_n the loss's output curvature
  without the residual term. For sum-of-squares Λ = diag(h'(a_k)²), so it is
  Σ_n Σ_k b_nk b_nkᵀ with b = ∂y_k/∂θ (eqs. 5.84, 5.85); for the canonical
  cross-entropies it is the generalized Gauss-Newton matrix, Λ = diag(y(1 − y))
  (eq. 5.86) or, for a softmax group, Σ_j t_j (diag(y) − y yᵀ). It drops
  Σ_k (∂E/∂a_k) ∇²a_k, so it equals H where every output's residual is zero.
- :func:`diagonal_hessian`: Becker & LeCun's backward pass (eqs. 5.78-5.80),
  which propagates ∂²E_n/∂a_j² neglecting the off-diagonal ∂²E_n/∂a_k∂a_k'
  (k ≠ k'). It is an approximation of the exact diagonal, not the diagonal of
  the exact H; :func:`compare_hessians` reports how far it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import SOFTMAX
from .backward import backward_pass, backward_sweep, softmax_backward, successor_sum
from .batches import prepare
from .exceptions import ActivationError, LossError, NumericalError, ShapeError
from .forward import activation_tangent, stack_outputs, tangent_sweep
from .network import Network
from .params import parameter_keys

__all__ = ["HessianComparison", "compare_hessians", "diagonal_hessian", "hessian", "hvp", "outer_product_hessian"]


@dataclass(frozen=True)
class _Point:
    """A network evaluated at (x, t): the values every second-order pass reads."""

    net: Network
    keys: list
    a: dict
    z: dict
    delta: dict
    curvature: np.ndarray  # (N, K, K): ∂²E_n/∂a_k∂a_l of the outputs, direct part
    gauss_newton: np.ndarray  # (N, K, K): the same without the residual term


def _evaluate(G, x, t, loss, weight: str) -> _Point:
    net, X, T, loss, _ = prepare(G, x, t, loss, weight)
    for j in net.bias:
        act = net.activation[j]
        if act != SOFTMAX and act.second_derivative is None:
            raise ActivationError(
                f"node {j!r}: activation {act.name!r} has no second_derivative, which Hessians need; "
                "register it with h''"
            )
    if loss.output_curvature is None:
        raise LossError(f"loss {loss.name!r} has no output_curvature, which Hessians need")
    a, z, _, delta = backward_pass(G, net, X, T, loss)  # z, δ and E checked for NaN/inf, the node named
    A, Y = stack_outputs(net, a), stack_outputs(net, z)
    elementwise, groups = net.output_columns
    slope, bend = np.ones_like(A), np.zeros_like(A)
    for k in elementwise:
        act = net.activation[net.outputs[k]]
        slope[:, k], bend[:, k] = act.derivative(A[:, k]), act.second_derivative(A[:, k])
    return _Point(
        net,
        parameter_keys(G, weight),
        a,
        z,
        delta,
        loss.output_curvature(A, Y, T, slope, bend, groups),
        loss.output_curvature(A, Y, T, slope, np.zeros_like(A), groups),
    )


def _r_forward(G, point: _Point, V: np.ndarray) -> tuple[dict, dict]:
    """R{a_j}, R{z_j} as (P, N) arrays for the P directions in the columns of V."""
    net, z = point.net, point.z
    v = {key: V[p] for p, key in enumerate(point.keys)}
    # The direct effect of the parameters on a_j: v_bj + Σ_i v_ji z_i.
    seed = {
        j: v["bias", j][:, None] + sum(v["weight", (i, j)][:, None] * z[i] for i in G.predecessors(j))
        for j in net.bias
    }
    r_a = tangent_sweep(G, net, point.a, z, seed)
    r_z = {}
    for unit in net.units:
        r_z.update(activation_tangent(net, unit, point.a, z, r_a))
    return r_a, r_z


def _r_backward(G, point: _Point, V: np.ndarray, r_a: dict, r_z: dict) -> dict:
    """R{δ_j} as (P, N) arrays: the δ sweep (5.56) with R's extra terms as its sources."""
    net, a, z, delta, weight = point.net, point.a, point.z, point.delta, point.net.weight
    v = {key: V[p] for p, key in enumerate(point.keys)}
    r_outputs = np.stack([r_a[k] for k in net.outputs], axis=-1)  # (P, N, K)
    r_direct = np.einsum("nkl,pnl->pnk", point.curvature, r_outputs)
    source = {k: r_direct[..., c] for c, k in enumerate(net.outputs)}
    for unit in net.units:
        if unit[0] not in net.bias:
            continue  # an input: its R{δ} is not needed
        through = {j: successor_sum(G, j, delta, weight) for j in unit}
        through_v = {j: sum((v["weight", (j, k)][:, None] * delta[k] for k in G.successors(j)), 0.0) for j in unit}
        if net.activation[unit[0]] is SOFTMAX:
            # R{J}ᵀ g for J_mj = z_m (I_mj − z_j): R{z_j}(g_j − Σ_m z_m g_m) − z_j Σ_m R{z_m} g_m
            mean = sum(z[m] * through[m] for m in unit)
            r_mean = sum(r_z[m] * through[m] for m in unit)
            bent = {j: r_z[j] * (through[j] - mean) - z[j] * r_mean for j in unit}
            passed = softmax_backward(unit, z, through_v)
        else:
            (j,) = unit
            act = net.activation[j]
            bent = {j: act.second_derivative(a[j]) * r_a[j] * through[j]}
            passed = {j: act.derivative(a[j]) * through_v[j]}
        for j in unit:
            source[j] = source.get(j, 0.0) + bent[j] + passed[j]
    return backward_sweep(G, net, a, z, source)


def _directions(point: _Point, v) -> tuple[np.ndarray, bool]:
    V = np.asarray(v, dtype=float)
    single = V.ndim == 1
    V = V[:, None] if single else V
    if V.ndim != 2 or V.shape[0] != len(point.keys):
        raise ShapeError(
            f"v has shape {np.shape(v)}; expected ({len(point.keys)},) or ({len(point.keys)}, P): "
            "one entry per weight and bias, in parameter_keys order"
        )
    if not np.isfinite(V).all():
        raise ShapeError("v holds NaN or inf; directions must be finite")
    return V, single


def _checked(point: _Point, values: np.ndarray, what: str, square: bool = False) -> np.ndarray:
    """`values` if all finite, else a NumericalError naming where the first NaN/inf is.

    Rows are in parameter order; with `square` so are the columns (a Hessian), else a column is a direction (H V).
    """
    if np.isfinite(values).all():
        return values
    index = np.unravel_index(int(np.flatnonzero(~np.isfinite(values))[0]), values.shape)
    named = ", ".join(f"{point.keys[k][0]} {point.keys[k][1]!r}" for k in (index if square else index[:1]))
    direction = f" in direction {index[1]}" if values.ndim == 2 and not square else ""
    raise NumericalError(f"{what} is {values[index]} at ({named}){direction}: an overflow in the second-order pass")


def _products(G, point: _Point, V: np.ndarray) -> np.ndarray:
    """H V for a (W, P) matrix of directions."""
    r_a, r_z = _r_forward(G, point, V)
    r_delta = _r_backward(G, point, V, r_a, r_z)
    delta, z = point.delta, point.z
    product = np.empty(V.shape)
    for row, (kind, key) in enumerate(point.keys):
        if kind == "weight":
            i, j = key
            product[row] = (r_delta[j] * z[i] + delta[j] * r_z[i]).sum(axis=-1)  # R{Σ_n δ_j z_i}
        else:
            product[row] = r_delta[key].sum(axis=-1)  # R{Σ_n δ_j}
    return product


def hvp(G, x, t, v, loss="sum_of_squares", weight: str = "weight") -> np.ndarray:
    """The exact Hessian-vector product H v of E = Σ_n E_n, by the R-operator.

    Parameters
    ----------
    G, x, t, loss, weight
        As for :func:`graphbp.backprop`.
    v : array_like
        A direction in parameter space, shape (W,) in
        :func:`graphbp.params.parameter_keys` order; or (W, P) for P
        directions at once.

    Returns
    -------
    numpy.ndarray
        H v, the same shape as `v`.

    Raises
    ------
    GraphBPError
        As :func:`graphbp.backprop`; a `v` of the wrong shape or not finite
        (:class:`~graphbp.exceptions.ShapeError`); an activation without a
        second derivative (:class:`~graphbp.exceptions.ActivationError`, the
        node named); a loss without ``output_curvature``; a NaN/inf in the
        pass or in the result (:class:`~graphbp.exceptions.NumericalError`,
        naming the node, or the parameter whose row overflowed).

    Examples
    --------
    y = w x with E = ½(w x − t)²: ∂²E/∂w² = x², ∂²E/∂w∂b = x, ∂²E/∂b² = 1.

    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "y", {"weight": 0.5})])
    >>> hvp(G, [3.0], [1.0], [1.0, 0.0])       # first column of [[9, 3], [3, 1]]
    array([9., 3.])
    """
    point = _evaluate(G, x, t, loss, weight)
    V, single = _directions(point, v)
    with np.errstate(all="ignore"):  # an overflow is named below
        product = _checked(point, _products(G, point, V), "H v")
    return product[:, 0] if single else product


def hessian(G, x, t, loss="sum_of_squares", weight: str = "weight") -> np.ndarray:
    """The exact Hessian of E with respect to every weight and bias, from W R-operator products.

    Parameters
    ----------
    G, x, t, loss, weight
        As for :func:`graphbp.backprop`.

    Returns
    -------
    numpy.ndarray
        Shape (W, W), rows and columns in :func:`graphbp.params.parameter_keys`
        order; column c is H e_c. Symmetric to rounding, and left unsymmetrised.

    Raises
    ------
    GraphBPError
        As :func:`hvp`.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "y", {"weight": 0.5})])
    >>> hessian(G, [[3.0], [1.0]], [[1.0], [0.0]])   # Σ_n [[x², x], [x, 1]]
    array([[10.,  4.],
           [ 4.,  2.]])
    """
    point = _evaluate(G, x, t, loss, weight)
    with np.errstate(all="ignore"):  # an overflow is named below
        return _checked(point, _products(G, point, np.eye(len(point.keys))), "the Hessian", square=True)


def outer_product_hessian(G, x, t, loss="sum_of_squares", weight: str = "weight") -> np.ndarray:
    """The outer-product (Gauss-Newton, Levenberg-Marquardt) approximation of the Hessian.

    Σ_n J_nᵀ Λ_n J_n, with J_n = ∂a_k/∂θ for the outputs (forward mode over the
    parameters) and Λ_n the loss's output curvature without the residual term:
    Σ_n Σ_k b_nk b_nkᵀ, b = ∂y_k/∂θ, for sum-of-squares (eqs. 5.84, 5.85);
    y(1 − y) b bᵀ with b = ∂a/∂θ for binary cross-entropy (eq. 5.86); the
    generalized Gauss-Newton matrix with Λ = Σ_j t_j (diag(y) − y yᵀ) for a
    softmax group. Positive semi-definite; equals :func:`hessian` where every
    output's residual ∂E_n/∂a_k is zero, if the outputs are linear or canonical.

    Parameters
    ----------
    G, x, t, loss, weight
        As for :func:`graphbp.backprop`.

    Returns
    -------
    numpy.ndarray
        Shape (W, W), :func:`graphbp.params.parameter_keys` order.

    Raises
    ------
    GraphBPError
        As :func:`hvp`.

    Examples
    --------
    One linear unit y = w x + b: here the approximation is exact.

    >>> import networkx as nx
    >>> G = nx.DiGraph([("x", "y", {"weight": 0.5})])
    >>> outer_product_hessian(G, [[3.0], [1.0]], [[1.0], [0.0]])
    array([[10.,  4.],
           [ 4.,  2.]])
    """
    point = _evaluate(G, x, t, loss, weight)
    with np.errstate(all="ignore"):  # an overflow is named below
        r_a, _ = _r_forward(G, point, np.eye(len(point.keys)))
        J = np.stack([r_a[k] for k in point.net.outputs], axis=1)
        # J[w, k, n] = ∂a_k/∂θ_w at sample n; Σ_n J_nᵀ Λ_n J_n
        return _checked(point, np.einsum("wkn,nkl,vln->wv", J, point.gauss_newton, J), "the outer-product Hessian", square=True)


def _softmax_second(unit, z) -> dict:
    """(∂z_m/∂a_j)² and ∂²z_m/∂a_j² of a softmax group, keyed (m, j)."""
    first, second = {}, {}
    for m in unit:
        for j in unit:
            slope = z[m] * (float(m == j) - z[j])
            first[m, j] = slope**2
            second[m, j] = slope * (float(m == j) - z[j]) - z[m] * z[j] * (1.0 - z[j])
    return first, second


def diagonal_hessian(G, x, t, loss="sum_of_squares", weight: str = "weight") -> np.ndarray:
    """Becker & LeCun's diagonal approximation of the Hessian, by one backward pass (Bishop §5.4.1).

    Second derivatives ∂²E_n/∂a_j² are propagated backwards like δ, with the
    off-diagonal ∂²E_n/∂a_k∂a_k' (k ≠ k') neglected (eq. 5.80)::

        ∂²E_n/∂a_j² ≈ h'(a_j)² Σ_{k ∈ succ(j)} w_kj² ∂²E_n/∂a_k² + h''(a_j) Σ_k w_kj δ_k  (+ the loss's own term)

    then ∂²E/∂w_ji² = Σ_n z_i² ∂²E_n/∂a_j² (eq. 5.78, exact given the line
    above) and ∂²E/∂b_j² = Σ_n ∂²E_n/∂a_j². A softmax group uses its own
    first and second derivatives in place of h' and h''. The result is exact
    where no unit's successors share a downstream path (a tree towards one
    output) and for the weights into the outputs; elsewhere it is an
    approximation of the exact diagonal (see :func:`compare_hessians`).

    Parameters
    ----------
    G, x, t, loss, weight
        As for :func:`graphbp.backprop`.

    Returns
    -------
    numpy.ndarray
        Shape (W,), :func:`graphbp.params.parameter_keys` order.

    Raises
    ------
    GraphBPError
        As :func:`hvp`.

    Examples
    --------
    A chain has no off-diagonal terms to neglect, so this is the exact diagonal:

    >>> import networkx as nx, numpy as np
    >>> G = nx.DiGraph([("x", "h", {"weight": 0.7}), ("h", "y", {"weight": -1.3})])
    >>> bool(np.allclose(diagonal_hessian(G, [0.4], [1.0]), np.diag(hessian(G, [0.4], [1.0]))))
    True
    """
    point = _evaluate(G, x, t, loss, weight)
    with np.errstate(all="ignore"):  # an overflow is named below
        return _checked(point, _diagonal_terms(G, point), "the diagonal Hessian")


def _diagonal_terms(G, point: _Point) -> np.ndarray:
    """The diagonal approximation of eqs. 5.78-5.80 at `point` (see :func:`diagonal_hessian`)."""
    net, a, z, delta, weight = point.net, point.a, point.z, point.delta, point.net.weight
    column = {k: c for c, k in enumerate(net.outputs)}
    second = {}  # node -> ∂²E_n/∂a_j², approximated
    for unit in reversed(net.units):
        if unit[0] not in net.bias:
            continue
        # Through z_m: Σ_k w_km² ∂²E_n/∂a_k² (diagonal part only) and Σ_k w_km δ_k.
        curved = {m: sum((np.square(G[m][k][weight]) * second[k] for k in G.successors(m)), 0.0) for m in unit}
        through = {m: successor_sum(G, m, delta, weight) for m in unit}
        if net.activation[unit[0]] is SOFTMAX:
            first_sq, second_z = _softmax_second(unit, z)
        else:
            (j,) = unit
            act = net.activation[j]
            first_sq, second_z = {(j, j): act.derivative(a[j]) ** 2}, {(j, j): act.second_derivative(a[j])}
        for j in unit:
            own = point.curvature[:, column[j], column[j]] if j in column else 0.0
            # eq. 5.80, plus the loss's own curvature for an output
            second[j] = own + sum(first_sq[m, j] * curved[m] + second_z[m, j] * through[m] for m in unit)
    diagonal = np.empty(len(point.keys))
    for row, (kind, key) in enumerate(point.keys):
        if kind == "weight":
            i, j = key
            diagonal[row] = np.sum(second[j] * z[i] ** 2)  # eq. 5.78
        else:
            diagonal[row] = np.sum(second[key])
    return diagonal


def _relative(approx: np.ndarray, exact: np.ndarray) -> float:
    scale = np.linalg.norm(exact)
    return float(np.linalg.norm(approx - exact) / scale) if scale else float(np.linalg.norm(approx))


@dataclass(frozen=True)
class HessianComparison:
    """The exact Hessian beside its approximations (:func:`compare_hessians`).

    Attributes
    ----------
    keys : list
        Parameter of each row/column (:func:`graphbp.params.parameter_keys`).
    exact, outer_product : numpy.ndarray
        (W, W) matrices.
    diagonal : numpy.ndarray
        (W,) Becker-LeCun diagonal.
    asymmetry : float
        ‖H − Hᵀ‖_F / ‖H‖_F of the exact Hessian (rounding only).
    outer_product_error : float
        ‖H_OP − H‖_F / ‖H‖_F.
    diagonal_error : float
        ‖d − diag(H)‖ / ‖diag(H)‖: the approximation against the exact diagonal.
    diagonal_matrix_error : float
        ‖diag(d) − H‖_F / ‖H‖_F: as an approximation of the whole Hessian.
    eigenvalues : dict
        ``"exact"``, ``"outer_product"`` -> (smallest, largest) eigenvalue of
        the symmetric part.
    """

    keys: list
    exact: np.ndarray
    outer_product: np.ndarray
    diagonal: np.ndarray
    asymmetry: float
    outer_product_error: float
    diagonal_error: float
    diagonal_matrix_error: float
    eigenvalues: dict

    def __str__(self) -> str:
        lines = [
            f"Hessian of {len(self.keys)} parameters; asymmetry ‖H − Hᵀ‖/‖H‖ = {self.asymmetry:.2e}",
            f"{'approximation':<26}{'relative error':>16}",
            f"{'outer product (GN)':<26}{self.outer_product_error:>16.3e}",
            f"{'diagonal vs diag(H)':<26}{self.diagonal_error:>16.3e}",
            f"{'diagonal vs H':<26}{self.diagonal_matrix_error:>16.3e}",
        ]
        for name, (low, high) in self.eigenvalues.items():
            lines.append(f"eigenvalues of {name}: [{low:.4g}, {high:.4g}]")
        return "\n".join(lines)


def compare_hessians(G, x, t, loss="sum_of_squares", weight: str = "weight") -> HessianComparison:
    """How far the outer-product and diagonal approximations are from the exact Hessian.

    Parameters
    ----------
    G, x, t, loss, weight
        As for :func:`graphbp.backprop`.

    Returns
    -------
    HessianComparison
        Printing it gives the relative errors (Frobenius norms) and eigenvalue ranges.

    Raises
    ------
    GraphBPError
        As :func:`hvp`.

    Examples
    --------
    >>> from graphbp import bishop_network
    >>> report = compare_hessians(bishop_network(), [[0.5, -1.0], [1.0, 0.3]], [[1.0, 0.0], [0.0, 1.0]])
    >>> report.asymmetry < 1e-14, report.outer_product_error > 0.01
    (True, True)
    """
    H = hessian(G, x, t, loss, weight)
    outer = outer_product_hessian(G, x, t, loss, weight)
    diagonal = diagonal_hessian(G, x, t, loss, weight)

    def spectrum(M):
        values = np.linalg.eigvalsh((M + M.T) / 2)
        return float(values[0]), float(values[-1])

    return HessianComparison(
        keys=parameter_keys(G, weight),
        exact=H,
        outer_product=outer,
        diagonal=diagonal,
        asymmetry=_relative(H.T, H),
        outer_product_error=_relative(outer, H),
        diagonal_error=_relative(diagonal, np.diag(H)),
        diagonal_matrix_error=_relative(np.diag(diagonal), H),
        eigenvalues={"exact": spectrum(H), "outer_product": spectrum(outer)},
    )
