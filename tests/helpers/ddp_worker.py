"""A DistributedDataParallel worker for tests/torch_module/test_torch_module.py (spawned processes import it by name)."""

import gc
import os

import numpy as np

from graphbp.generators import skip_mlp


def ddp_graph():
    return skip_mlp([3, 6, 5, 2], p_skip=0.4, seed=21)


def ddp_batch():
    rng = np.random.default_rng(21)
    return rng.normal(size=(10, 3)), rng.normal(size=(10, 2))


def train_step(rank: int, world_size: int, port: int, out_path: str) -> None:
    """Each rank runs half the batch through DDP; rank 0 saves world_size x the (averaged) gradient."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from graphbp.torch_module import to_torch

    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        X, T = ddp_batch()
        model = DistributedDataParallel(to_torch(ddp_graph(), dtype=torch.float64))
        y = model(torch.as_tensor(X[rank::world_size]))
        loss = 0.5 * ((y - torch.as_tensor(T[rank::world_size])) ** 2).sum()
        loss.backward()  # DDP all-reduces the gradients as a mean over the ranks
        grad = torch.cat([model.module.weight.grad, model.module.bias.grad]) * world_size
        if rank == 0:
            np.save(out_path, grad.numpy())
        # Tear down in step: both ranks done, then the DDP reducer (which holds the gloo process group)
        # freed before the group. Left to interpreter exit, gloo's worker threads could outlive them and
        # abort the process ("terminate called without an active exception", SIGABRT), now and then.
        dist.barrier()
        del model, y, loss
        gc.collect()
    finally:
        dist.destroy_process_group()


__all__ = ["ddp_batch", "ddp_graph", "train_step"]
