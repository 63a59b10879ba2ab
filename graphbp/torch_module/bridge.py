"""The CPU bridge: a module's pass on CPU tensors run by the compiled engine (:mod:`graphbp.compiled`).

Forward fills the engine's work arrays (lent from its pool, kept until the
backward); backward is :meth:`~graphbp.compiled.CompiledNetwork.pull_back`,
the vector-Jacobian product of eqs. 5.53-5.56 for whatever ∂L/∂y torch hands
it. So a torch training loop on the CPU (or DistributedDataParallel over CPU
processes) runs at :meth:`~graphbp.compiled.CompiledNetwork.loss_and_gradient` speed.
"""

from __future__ import annotations

import numpy as np
import torch

from .lease import Lease

__all__ = ["CompiledPass"]


class CompiledPass(torch.autograd.Function):
    """y = network(X) by the compiled engine; backward is :meth:`CompiledNetwork.vjp`'s pull-back."""

    @staticmethod
    def forward(ctx, module, X, weight, bias):
        # In numpy: torch.cat would run on torch's own thread pool, whose threads then spin beside the kernels'.
        theta = np.concatenate([weight.detach().numpy(), bias.detach().numpy()]).astype(np.float64, copy=False)
        engine = module.loaded_engine(theta, weight.dtype)
        lease = Lease(engine.workspaces.give, engine.workspaces.take(X.shape[0]))
        z = engine.forward_into(X.detach().numpy(), lease.value)[1]
        ctx.module, ctx.lease, ctx.theta = module, lease, theta
        ctx.save_for_backward(X, weight, bias)  # torch then refuses a backward after they changed in place
        return torch.from_numpy(z[engine.wiring.output_rows].T.copy())

    @staticmethod
    def backward(ctx, grad_y):
        X, weight, _ = ctx.saved_tensors
        engine = ctx.module.loaded_engine(ctx.theta, weight.dtype)  # the values this forward ran with
        # The arrays go back to the pool after this backward, so the next step reuses them (warm in cache).
        lease, ctx.lease = ctx.lease, None
        if lease is None:  # a second backward (retain_graph=True): run the forward again
            lease = Lease(engine.workspaces.give, engine.workspaces.take(X.shape[0]))
            engine.forward_into(X.detach().numpy(), lease.value)
        inputs = ctx.needs_input_grad[1]  # ∂L/∂X only where X takes part in the gradient (another layer, or X itself)
        grad_x, grad_weight, grad_bias = engine.pull_back(lease.value, grad_y.detach().numpy(), inputs)
        grad_x = torch.from_numpy(grad_x) if inputs else None
        return None, grad_x, torch.from_numpy(grad_weight), torch.from_numpy(grad_bias)
