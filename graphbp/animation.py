"""The backward sweep as an animation: nodes receive their δ one by one, in reverse topological order."""

from __future__ import annotations

from pathlib import Path

from .drawing import draw, figure_for, layout
from .explain import sample_values
from .network import read_network

__all__ = ["animate_backward"]


def animate_backward(G, result, path: str | Path | None = None, *, sample: int = 0, fps: float = 1.0,
                     dpi: int = 80, cmap: str = "RdBu_r", weight: str = "weight"):
    """Animate eq. 5.56: one frame per node, in the order the backward pass computes δ.

    Frame t highlights the node being computed and its summation set S_j with
    the eq. 5.56 box; the nodes already done show their δ, the others "δ=?".
    A last frame shows every δ.

    Parameters
    ----------
    G : networkx.DiGraph
        The network `result` was computed on.
    result : BackpropResult
        From :func:`graphbp.backprop`.
    path : str or Path, optional
        Save the animation there as a GIF (matplotlib's pillow writer).
    sample : int, default 0
        For a batch result, the sample shown.
    fps : float, default 1.0
        Frames per second of the GIF.
    dpi : int, default 80
        Resolution of the GIF.
    cmap : str, default "RdBu_r"
        Diverging colormap for δ.
    weight : str, default "weight"
        Edge attribute holding the weight.

    Returns
    -------
    matplotlib.animation.FuncAnimation

    Raises
    ------
    GraphBPError
        An invalid network, or `sample` outside the result.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from graphbp import backprop, bishop_network
    >>> G = bishop_network()
    >>> anim = animate_backward(G, backprop(G, [0.5, -1.0], [1.0, 0.0]))
    >>> len(list(anim.new_frame_seq()))      # 7 nodes, then every δ
    8
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter
    from matplotlib.colors import Normalize

    net = read_network(G, weight)
    order = list(reversed(net.order))
    delta = sample_values(result, sample)[2]
    limit = max(abs(v) for v in delta.values()) or 1.0
    positions = layout(G, weight=weight)
    fig, ax = figure_for(G, positions, extra_height=1.8)
    fig.subplots_adjust(left=0.02, right=0.9, top=0.9, bottom=0.34)
    fig.colorbar(plt.cm.ScalarMappable(norm=Normalize(-limit, limit), cmap=cmap), ax=ax, shrink=0.7,
                 pad=0.02).set_label(r"$\delta_j = \partial E_n / \partial a_j$")

    def frame(t):
        ax.clear()
        done = t == len(order)
        draw(G, result, sample=sample, ax=ax, pos=positions, reveal=order[: t + 1],
             highlight=None if done else order[t], cmap=cmap, vmax=limit, colorbar=False, weight=weight)
        ax.set_title("every δ computed, in O(V + E)" if done else
                     f"backward sweep, step {t + 1}/{len(order)}: δ_{order[t]!s} from its successors S_{order[t]!s}",
                     fontsize=10)

    animation = FuncAnimation(fig, frame, frames=len(order) + 1, interval=1000 / fps, repeat=True)
    if path is not None:
        animation.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
    return animation
