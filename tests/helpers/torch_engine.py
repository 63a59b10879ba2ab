"""An independent engine for the cross-checks: the same network evaluated by PyTorch autograd.

It shares no code with graphbp: it reads the graph itself (inputs/outputs,
defaults), evaluates each node by memoised recursion over predecessors (no
topological order of ours), lets autograd find every derivative, and uses
torch's own activation and loss functions.
"""

import sys

import numpy as np

TORCH_ACTIVATIONS = {
    "identity": lambda torch, a: a,
    "tanh": lambda torch, a: torch.tanh(a),
    "logistic": lambda torch, a: torch.sigmoid(a),
    "sigmoid": lambda torch, a: torch.sigmoid(a),
    "relu": lambda torch, a: torch.relu(a),
    "leaky_relu": lambda torch, a: torch.nn.functional.leaky_relu(a, 0.01),
    "softplus": lambda torch, a: torch.logaddexp(torch.zeros_like(a), a),
}


def io_nodes(G):
    inputs = G.graph.get("inputs") or [n for n in G if G.in_degree(n) == 0]
    outputs = G.graph.get("outputs") or [n for n in G if G.out_degree(n) == 0]
    return list(inputs), list(outputs)


def torch_forward(torch, G, X, weight="weight", params=None):
    """Forward pass; returns (a, z, outputs, leaves) with leaves the weight/bias tensors."""
    inputs, outputs = io_nodes(G)
    X = X if torch.is_tensor(X) else torch.as_tensor(np.asarray(X, dtype=float))  # a tensor: for functional.jacobian
    if params is None:
        params = {
            "weight": {e: torch.tensor(float(G.edges[e][weight]), requires_grad=True) for e in G.edges},
            "bias": {n: torch.tensor(float(G.nodes[n].get("bias", 0.0)), requires_grad=True)
                     for n in G if n not in inputs},
        }
    a, z = {}, {}
    for k, n in enumerate(inputs):
        a[n] = X[:, k].clone().requires_grad_(True)
        z[n] = a[n]

    def activation(n):
        default = "identity" if n in outputs else "tanh"
        return G.nodes[n].get("activation") or default

    def get_a(n):
        if n not in a:
            a[n] = params["bias"][n] + sum((params["weight"][(i, n)] * get_z(i) for i in G.predecessors(n)),
                                           torch.zeros(X.shape[0]))
            a[n].retain_grad()
        return a[n]

    def get_z(n):
        if n not in z:
            name = activation(n)
            if name == "softmax":
                group = softmax_group(G, outputs, n)
                values = torch.softmax(torch.stack([get_a(m) for m in group]), dim=0)
                z.update(zip(group, values))
            else:
                z[n] = TORCH_ACTIVATIONS[name](torch, get_a(n))
        return z[n]

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20 * G.number_of_nodes() + 1000))
    try:
        for n in G:
            get_z(n)
    finally:
        sys.setrecursionlimit(limit)
    return a, z, outputs, params


def softmax_group(G, outputs, n):
    key = G.nodes[n].get("softmax_group")
    return [m for m in outputs if G.nodes[m].get("activation") == "softmax" and G.nodes[m].get("softmax_group") == key]


def torch_loss(torch, G, a, z, outputs, T, loss):
    """E by torch's own loss functions (never graphbp's): on the outputs y, or on the logits a."""
    T = torch.as_tensor(np.asarray(T, dtype=float))
    A = torch.stack([a[k] for k in outputs], dim=1)
    Y = torch.stack([z[k] for k in outputs], dim=1)
    functional = torch.nn.functional
    if loss in ("sse", "sum_of_squares"):
        return 0.5 * functional.mse_loss(Y, T, reduction="sum")
    if loss in ("bce", "binary_cross_entropy"):
        return functional.binary_cross_entropy_with_logits(A, T, reduction="sum")
    total = 0.0
    seen = set()
    for k in outputs:
        if k in seen:
            continue
        group = softmax_group(G, outputs, k)
        seen.update(group)
        cols = [outputs.index(m) for m in group]
        # −Σ_k t_k log_softmax(a)_k on the logits, for any targets (not only those summing to 1)
        total = total + functional.cross_entropy(A[:, cols], T[:, cols], reduction="sum")
    return total


def torch_backprop(torch, G, X, T, loss="sse", weight="weight"):
    """Loss, per-node δ (N arrays), ∂E/∂w, ∂E/∂b and y, all by autograd in float64."""
    a, z, outputs, params = torch_forward(torch, G, X, weight)
    E = torch_loss(torch, G, a, z, outputs, T, loss)
    E.backward()

    def grad_of(tensor):
        return np.zeros(tensor.shape) if tensor.grad is None else tensor.grad.detach().numpy().copy()

    return {
        "loss": E.item(),
        "delta": {n: grad_of(a[n]) for n in G},
        "grad_weight": {e: float(grad_of(w)) for e, w in params["weight"].items()},
        "grad_bias": {n: float(grad_of(b)) for n, b in params["bias"].items()},
        "y": torch.stack([z[k] for k in outputs], dim=1).detach().numpy(),
    }


def relative_difference(ours, theirs):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    scale = np.maximum(np.maximum(np.abs(ours), np.abs(theirs)), 1.0)
    return float(np.max(np.abs(ours - theirs) / scale)) if ours.size else 0.0


def assert_matches_torch(torch, G, result, X, T, loss, tol=1e-10, weight="weight"):
    """graphbp's loss, y, every δ, ∂E/∂w and ∂E/∂b equal autograd's to `tol`; returns the worst difference.

    The case must not be trivial: a positive loss and some non-zero gradient.
    """
    reference = torch_backprop(torch, G, X, T, loss, weight)
    # A comparison of zeros proves nothing (e.g. a softmax group of one: y = 1, E = 0).
    assert reference["loss"] > 0, "a trivial case: the loss is 0"
    gradients = [*reference["grad_weight"].values(), *reference["grad_bias"].values()]
    assert any(g != 0 for g in gradients), "a trivial case: every gradient is 0"
    worst = relative_difference(result.loss, reference["loss"])
    worst = max(worst, relative_difference(result.y, reference["y"]))
    for n in G:
        worst = max(worst, relative_difference(result.delta[n], reference["delta"][n]))
    for e in G.edges:
        worst = max(worst, relative_difference(result.grad_weight[e], reference["grad_weight"][e]))
    for n, g in reference["grad_bias"].items():
        worst = max(worst, relative_difference(result.grad_bias[n], g))
    assert worst <= tol, f"graphbp and torch differ by {worst:.3e} (> {tol:.0e})"
    return worst
