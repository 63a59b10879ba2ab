"""The level loop: the network's passes as torch operations on flat buffers, for any device (CUDA above all).

The rows of the (V, N) buffers a, z, Σ and δ are the positions of
:func:`graphbp.wiring.level_plans`, level after level, so a
topological level is one slice of every buffer and each activation group of it
a sub-slice. Each level's sums are one ``index_select``, one scale and one
``index_add_`` (eq. 5.48 forward, eq. 5.56 backward), in place, with ∂E/∂w
(eq. 5.53) summed per level on the way back: O(E·N) work, O(V·N) memory. On
CUDA both passes are captured once as CUDA graphs per (batch size, dtype) and
replayed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from ..activations import torch_softmax
from ..compiled.results import ArrayMapping
from ..exceptions import GraphBPError
from ..batches import check_finite
from ..wiring import INPUT, SOFTMAX_CODE, Wiring, level_plans

__all__ = ["RowPlan", "LevelRunner", "LevelPass"]


@dataclass(frozen=True)
class LevelSpan:
    """Where one level lies in the row numbering and in the two edge orders.

    Rows ``rows[0]:rows[1]``; its in-edges (by target row) ``forward[0]:forward[1]``;
    its out-edges (by source row) ``backward[0]:backward[1]``; ``groups`` are
    ``(code, first row, past the last row)`` of each activation group.
    """

    rows: tuple
    forward: tuple
    backward: tuple
    groups: tuple


class RowPlan:
    """The level plans of a wiring with rows numbered level after level, and both edge orders (numpy).

    ``position[r]`` is the wiring position of row r. Edges are listed twice: by
    target row (forward, eq. 5.48) and by source row (backward, eq. 5.56), each
    with the row's index within its level (``*_local``) for a level-sized scatter.
    """

    def __init__(self, wiring: Wiring):
        plans = level_plans(wiring)
        self.position = np.concatenate([plan.rows for plan in plans])
        row = np.empty_like(self.position)
        row[self.position] = np.arange(self.position.size)
        row_bounds = np.concatenate([[0], np.cumsum([plan.rows.size for plan in plans])])
        level_of_row = np.repeat(np.arange(len(plans)), np.diff(row_bounds))
        target = row[np.repeat(np.arange(wiring.n_nodes), np.diff(wiring.pred_ptr))]
        source = row[wiring.pred_index]
        forward, backward = np.argsort(target, kind="stable"), np.argsort(source, kind="stable")
        self.forward_edge, self.forward_source = forward, source[forward]
        self.forward_local = target[forward] - row_bounds[level_of_row[target[forward]]]
        self.backward_edge, self.backward_target = backward, target[backward]
        self.backward_source = source[backward]
        self.backward_local = source[backward] - row_bounds[level_of_row[source[backward]]]
        forward_bounds = np.searchsorted(target[forward], row_bounds).tolist()
        backward_bounds = np.searchsorted(source[backward], row_bounds).tolist()
        bounds = row_bounds.tolist()
        self.levels = [
            LevelSpan(
                rows=(bounds[L], bounds[L + 1]),
                forward=(forward_bounds[L], forward_bounds[L + 1]),
                backward=(backward_bounds[L], backward_bounds[L + 1]),
                groups=tuple((code, bounds[L] + start, bounds[L] + stop) for code, start, stop in plan.groups),
            )
            for L, plan in enumerate(plans)
        ]
        n_bias = wiring.bias_rows.size
        bias_slot = np.full(wiring.n_nodes, n_bias)  # inputs read the zero appended after the biases
        bias_slot[wiring.bias_rows] = np.arange(n_bias)
        self.row_bias = bias_slot[self.position]
        self.input_rows, self.output_rows, self.bias_rows = (
            row[wiring.input_rows], row[wiring.output_rows], row[wiring.bias_rows]
        )
        widths = np.diff(forward_bounds).tolist() + np.diff(backward_bounds).tolist()
        self.max_edges = max(widths + [1])


@dataclass(frozen=True)
class ForwardEdges:
    """A level's in-edges for eq. 5.48: source rows, target rows within the level, weights, scratch."""

    source: torch.Tensor
    local: torch.Tensor
    weight: torch.Tensor
    scaled: torch.Tensor


@dataclass(frozen=True)
class BackwardEdges:
    """A level's out-edges for eqs. 5.53 and 5.56: target and source rows, source rows within the level,
    weights, scratch for w_kj δ_k and δ_k z_j, and where the edges' ∂E/∂w go."""

    target: torch.Tensor
    source: torch.Tensor
    local: torch.Tensor
    weight: torch.Tensor
    scaled: torch.Tensor
    product: torch.Tensor
    gradient: torch.Tensor


@dataclass(frozen=True)
class ActivationRows:
    """One activation group's rows of a, z, Σ and δ, its unit code and its (h, h') as torch functions,
    or for a softmax group its forward and Jacobian product (:func:`graphbp.activations.torch_softmax`);
    None for inputs."""

    code: int
    a: torch.Tensor
    z: torch.Tensor
    through: torch.Tensor
    delta: torch.Tensor
    functions: tuple | None


@dataclass(frozen=True)
class LevelViews:
    """The slices of the buffers one level reads and writes, made once (each pass only indexes)."""

    a: torch.Tensor
    bias: torch.Tensor
    through: torch.Tensor
    forward: ForwardEdges
    backward: BackwardEdges
    groups: tuple


def _group_functions(code: int, functions) -> tuple | None:
    """The torch functions of an activation group with this unit code (see :class:`ActivationRows`)."""
    if code == SOFTMAX_CODE:
        return torch_softmax()
    return functions(code) if code >= 0 else None


class LevelRunner:
    """The level loop on one device for one batch size and dtype: buffers allocated once, passes in place.

    `functions(code)` gives the (h, h') torch functions of an element-wise unit code.
    """

    def __init__(self, wiring: Wiring, plan: RowPlan, functions, weight, bias, N: int, capture: bool):
        self.wiring, self.plan, self.weight, self.bias = wiring, plan, weight, bias
        device, dtype = weight.device, weight.dtype
        index = {name: torch.as_tensor(getattr(plan, name), dtype=torch.long, device=device) for name in (
            "forward_edge", "forward_source", "forward_local", "backward_edge", "backward_target",
            "backward_source", "backward_local", "row_bias", "input_rows", "output_rows", "bias_rows")}  # fmt: skip
        self.index = index
        V, E, n_bias = plan.row_bias.size, plan.forward_edge.size, bias.numel()

        def new(*shape):
            return torch.zeros(shape, dtype=dtype, device=device)

        self.a, self.z, self.through, self.delta = new(V, N), new(V, N), new(V, N), new(V, N)
        self.scratch, self.product = new(plan.max_edges, N), new(plan.max_edges, N)
        self.x, self.grad_y = new(N, index["input_rows"].numel()), new(N, index["output_rows"].numel())
        # y and ∂L/∂x are kept as (columns, N) rows and transposed on the way out.
        self.y_rows, self.grad_x_rows = new(index["output_rows"].numel(), N), new(index["input_rows"].numel(), N)
        self.forward_weight, self.backward_weight = new(E), new(E)
        self.edge_gradient, self.grad_weight, self.grad_bias = new(E), new(E), new(n_bias)
        self.bias_and_zero, self.row_bias, self.row_sums = new(n_bias + 1), new(V), new(V)
        self.levels = [self._views(span, functions) for span in plan.levels]
        self.graphs = self._capture() if capture and device.type == "cuda" else None

    def _views(self, span: LevelSpan, functions) -> LevelViews:
        i = self.index
        (r0, r1), (f0, f1), (b0, b1) = span.rows, span.forward, span.backward
        return LevelViews(
            a=self.a[r0:r1],
            bias=self.row_bias[r0:r1, None],
            through=self.through[r0:r1],
            forward=ForwardEdges(
                source=i["forward_source"][f0:f1], local=i["forward_local"][f0:f1],
                weight=self.forward_weight[f0:f1, None], scaled=self.scratch[: f1 - f0],
            ),
            backward=BackwardEdges(
                target=i["backward_target"][b0:b1], source=i["backward_source"][b0:b1],
                local=i["backward_local"][b0:b1], weight=self.backward_weight[b0:b1, None],
                scaled=self.scratch[: b1 - b0], product=self.product[: b1 - b0], gradient=self.edge_gradient[b0:b1],
            ),
            groups=tuple(
                ActivationRows(
                    code=code, a=self.a[g0:g1], z=self.z[g0:g1], through=self.through[g0:g1],
                    delta=self.delta[g0:g1], functions=_group_functions(code, functions),
                )
                for code, g0, g1 in span.groups
            ),
        )  # fmt: skip

    def _forward(self) -> None:
        i = self.index
        torch.index_select(self.weight, 0, i["forward_edge"], out=self.forward_weight)
        self.bias_and_zero[:-1].copy_(self.bias)
        torch.index_select(self.bias_and_zero, 0, i["row_bias"], out=self.row_bias)
        self.z.index_copy_(0, i["input_rows"], self.x.T)
        for level in self.levels:
            level.a.copy_(level.bias)
            edges = level.forward
            if edges.scaled.shape[0]:
                # eq. 5.48 for the whole level: a_j = b_j + Σ_i w_ji z_i (gather, scale, scatter-add)
                torch.index_select(self.z, 0, edges.source, out=edges.scaled)
                level.a.index_add_(0, edges.local, edges.scaled.mul_(edges.weight))
            for group in level.groups:
                if group.code != INPUT:
                    group.z.copy_(group.functions[0](group.a))  # eq. 5.49, a softmax group's across its rows
        torch.index_select(self.z, 0, i["output_rows"], out=self.y_rows)

    def _backward(self) -> None:
        i = self.index
        torch.index_select(self.weight, 0, i["backward_edge"], out=self.backward_weight)
        # The outputs' own ∂L/∂z_k starts their sum; the same h' (or softmax Jacobian) then applies to both.
        self.through.zero_().index_copy_(0, i["output_rows"], self.grad_y.T)
        for level in reversed(self.levels):
            edges = level.backward
            if edges.scaled.shape[0]:
                torch.index_select(self.delta, 0, edges.target, out=edges.scaled)
                # eq. 5.53 for the level's out-edges j -> k: ∂E/∂w_kj = Σ_n δ_k z_j
                torch.index_select(self.z, 0, edges.source, out=edges.product)
                torch.sum(edges.product.mul_(edges.scaled), 1, out=edges.gradient)
                # eq. 5.56 for the whole level: Σ_{k ∈ successors(j)} w_kj δ_k
                level.through.index_add_(0, edges.local, edges.scaled.mul_(edges.weight))
            for group in level.groups:
                if group.code == SOFTMAX_CODE:  # the group's Jacobian applied to Σ (eq. 5.56)
                    group.delta.copy_(group.functions[1](group.z, group.through))
                elif group.code == INPUT:
                    group.delta.copy_(group.through)
                else:
                    torch.mul(group.functions[1](group.a), group.through, out=group.delta)
        self.grad_weight.index_copy_(0, i["backward_edge"], self.edge_gradient)
        torch.sum(self.delta, 1, out=self.row_sums)  # ∂E/∂b_j = Σ_n δ_j
        torch.index_select(self.row_sums, 0, i["bias_rows"], out=self.grad_bias)
        torch.index_select(self.delta, 0, i["input_rows"], out=self.grad_x_rows)

    def _capture(self):
        """Both passes as CUDA graphs (after a warm-up on a side stream), or None where capture fails."""
        try:
            stream = torch.cuda.Stream(self.weight.device)
            stream.wait_stream(torch.cuda.current_stream(self.weight.device))
            with torch.cuda.stream(stream):
                self._forward()
                self._backward()
            torch.cuda.current_stream(self.weight.device).wait_stream(stream)
            forward, backward = torch.cuda.CUDAGraph(), torch.cuda.CUDAGraph()
            with torch.cuda.graph(forward, capture_error_mode="thread_local"):
                self._forward()
            with torch.cuda.graph(backward, pool=forward.pool(), capture_error_mode="thread_local"):
                self._backward()
            return forward, backward
        except RuntimeError as error:
            warnings.warn(f"CUDA graph capture failed ({error}); the level loop runs eagerly", stacklevel=4)
            return None

    def forward(self, X):
        self.x.copy_(X)
        if self.graphs:
            self.graphs[0].replay()
        else:
            self._forward()
        y = self.y_rows.T.contiguous()
        if not bool(torch.isfinite(self.z).all()):  # no silent NaN, as the compiled engine
            self._name_non_finite(self.z, "z")
        return y

    def backward(self, grad_y):
        self.grad_y.copy_(grad_y)
        if self.graphs:
            self.graphs[1].replay()
        else:
            self._backward()
        grad_weight = self.grad_weight.clone()
        if not bool(torch.isfinite(self.delta).all()):
            self._name_non_finite(self.delta, "delta")
        return self.grad_x_rows.T.contiguous(), grad_weight, self.grad_bias.clone()

    def _name_non_finite(self, values, name: str) -> None:
        """Raise NumericalError naming the first node (in pass order) whose row is not finite."""
        net = self.wiring.net
        rows = {net.order[p]: r for r, p in enumerate(self.plan.position.tolist())}
        check_finite(net, ArrayMapping(rows, values.detach().cpu().numpy()), name, reverse=name == "delta")
        raise GraphBPError(f"a {name} value is not finite")  # unreachable unless the buffers changed meanwhile


class LevelPass(torch.autograd.Function):
    """y = network(X) by the level loop; backward pulls ∂L/∂y back to ∂L/∂X, ∂L/∂w, ∂L/∂b."""

    @staticmethod
    def forward(ctx, module, X, weight, bias):
        lease = module.borrow_runner(weight, bias, X.shape[0])
        ctx.module, ctx.lease = module, lease
        ctx.save_for_backward(X, weight, bias)  # torch then refuses a backward after they changed in place
        return lease.value.forward(X)

    @staticmethod
    def backward(ctx, grad_y):
        X, weight, bias = ctx.saved_tensors
        lease, ctx.lease = ctx.lease, None  # the runner goes back to the pool after this backward
        if lease is None:  # a second backward (retain_graph=True): run the forward again
            lease = ctx.module.borrow_runner(weight, bias, X.shape[0])
            lease.value.forward(X)
        return (None, *lease.value.backward(grad_y))
