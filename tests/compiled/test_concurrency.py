"""Several threads on one CompiledNetwork or one torch module get exactly the single-thread answers."""

import threading

import numpy as np
import pytest

import graphbp
from graphbp.generators import random_dag
from optional import require

THREADS, CALLS = 4, 12


def _graph():
    return random_dag(300, k=8, p=0.75, n_inputs=6, n_outputs=4, seed=13)


def _batches(G, count):
    net = graphbp.read_network(G)
    rng = np.random.default_rng(13)
    return [(rng.normal(size=(64 + 8 * b, len(net.inputs))), rng.normal(size=(64 + 8 * b, len(net.outputs))))
            for b in range(count)]


def _run_together(work, count):
    """work(k) for k in range(count) split over THREADS threads released at once; results by k."""
    results, errors = {}, []
    barrier = threading.Barrier(THREADS)

    def worker(first):
        barrier.wait()
        try:
            for k in range(first, count, THREADS):
                results[k] = work(k)
        except Exception as error:  # noqa: BLE001  (re-raised in the main thread)
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("backend, dense", [("numba", False), ("numba", True), ("numpy", False)])
def test_threads_sharing_one_compiled_network(backend, dense):
    if backend == "numba":
        require("numba")
    G = _graph()
    net = graphbp.compile(G, backend=backend, dense=dense)
    assert (net.dense_edges > 0) == dense  # dense=True: every quarter-full group of edges a matrix product
    batches = _batches(G, THREADS * CALLS // 4)
    single = [net.loss_and_gradient(X, T) for X, T in batches]
    single_backprop = [net.backprop(X, T).delta[5] for X, T in batches]

    def work(k):
        X, T = batches[k % len(batches)]
        loss, gradient = net.loss_and_gradient(X, T)
        return loss, gradient, net.backprop(X, T, chunk_size=40).delta[5]

    for k, (loss, gradient, delta) in _run_together(work, THREADS * CALLS).items():
        expected_loss, expected_gradient = single[k % len(batches)]
        assert loss == pytest.approx(expected_loss, rel=1e-13)
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(delta, single_backprop[k % len(batches)], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("levels_on_cpu", [False, True])
def test_threads_sharing_one_module(levels_on_cpu, torch):
    from graphbp.torch_module import to_torch

    G = _graph()
    module = to_torch(G, dtype=torch.float64)
    module.levels_on_cpu = levels_on_cpu
    batches = _batches(G, THREADS * CALLS // 4)

    def gradients(k):
        X, T = (torch.as_tensor(v) for v in batches[k % len(batches)])
        X.requires_grad_(True)
        y = module(X)
        weight, bias, grad_x = torch.autograd.grad(0.5 * (y - T).square().sum(), [module.weight, module.bias, X])
        return torch.cat([weight, bias]).numpy(), grad_x.numpy()

    single = [gradients(k) for k in range(len(batches))]
    for k, (theta, x) in _run_together(gradients, THREADS * CALLS).items():
        np.testing.assert_allclose(theta, single[k % len(batches)][0], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(x, single[k % len(batches)][1], rtol=1e-12, atol=1e-13)
