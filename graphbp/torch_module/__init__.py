"""A network graph as a PyTorch module whose forward and backward are graphbp's own passes.

:func:`to_torch` returns a ``torch.nn.Module`` computing the same network as
:func:`graphbp.forward` (eqs. 5.48, 5.49), with every weight and bias an
``nn.Parameter`` (two flat vectors, in the order of
:func:`graphbp.parameter_keys`). Its forward and backward are one
``torch.autograd.Function`` whose backward is eqs. 5.53-5.56 applied to
whatever ∂L/∂y torch hands it, so any torch loss works and the module can sit
between other torch layers (it returns ∂L/∂x too). Two executors:

* **CPU tensors**: the compiled engine (:mod:`.bridge`) on work arrays kept
  between calls, so a torch training loop runs at
  :meth:`~graphbp.compiled.CompiledNetwork.loss_and_gradient` speed;
* **other devices (CUDA)**: the level loop (:mod:`.levels`), captured once
  as a CUDA graph per (batch size, dtype) and replayed (``cuda_graph=False``
  turns capture off; where capture fails the loop runs eagerly).
  ``module.levels_on_cpu = True`` runs the same loop on CPU tensors, to check
  it without a GPU.

Several threads may call one module at once; each pass borrows its own
buffers and gives them back after its backward (or when its autograd graph is
freed without one).

torch is an optional extra (``pip install graphbp[torch]``): importing
:mod:`graphbp` never imports it; importing this package does.
"""

try:
    import torch  # noqa: F401
except ImportError as error:  # torch is an optional extra
    raise ImportError("graphbp.torch_module needs PyTorch: pip install 'graphbp[torch]'") from error

from .module import GraphModule, from_torch, to_torch

__all__ = ["GraphModule", "to_torch", "from_torch"]
