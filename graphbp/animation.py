"""The backward sweep as an animation: nodes receive their δ one by one, in reverse topological order."""

from __future__ import annotations

from pathlib import Path

from .drawing import colour_limit, draw, figure_for, fit_title, layout
from .explain import sample_values
from .network import read_network

__all__ = ["animate_backward"]


def animate_backward(G, result, path: str | Path | None = None, *, sample: int = 0, seconds: float = 3.0,
                     dpi: int = 100, cmap: str = "RdBu_r", weight: str = "weight"):
    """Animate eq. 5.56: one frame per node, in the order the backward pass computes δ.

    Frame t highlights the node being computed and its summation set S_j with
    the eq. 5.56 box; the nodes already done show their δ, the others "δ=?".
    A last frame shows every δ, and stays three times as long.

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
    seconds : float, default 3.0
        How long each frame is shown: long enough to read its eq. 5.56 box.
    dpi : int, default 100
        Resolution of the GIF.
    cmap : str, default "RdBu_r"
        Diverging colormap for δ.
    weight : str, default "weight"
        Edge attribute holding the weight.

    Returns
    -------
    matplotlib.animation.FuncAnimation
        Its attribute ``drawn`` holds what :func:`graphbp.draw` returned for
        the frame drawn last.

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
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "sweep.gif")
    ...     anim = animate_backward(G, backprop(G, [0.5, -1.0], [1.0, 0.0]), path, dpi=20)
    ...     os.path.getsize(path) > 0
    True
    >>> len(list(anim.new_frame_seq()))      # 7 nodes, then every δ (shown three frames long)
    10
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter
    from matplotlib.colors import Normalize

    net = read_network(G, weight)
    order = list(reversed(net.order))
    delta = sample_values(result, sample)[2]
    limit, clipped = colour_limit(list(delta.values()))
    positions = layout(G, weight=weight)
    fig, ax = figure_for(G, positions, equation=True)
    fig.subplots_adjust(left=0.02, right=0.9, top=0.9, bottom=0.02)
    fig.colorbar(plt.cm.ScalarMappable(norm=Normalize(-limit, limit), cmap=cmap), ax=ax, shrink=0.7, pad=0.02,
                 extend="both" if clipped else "neither").set_label(r"$\delta_j = \partial E_n / \partial a_j$")
    box = ax.get_position()

    def frame(t):
        ax.clear()
        ax.set_position(box)  # draw() takes room under the axes for the eq. 5.56 box, afresh each frame
        done = t == len(order)
        animation.drawn = draw(G, result, sample=sample, ax=ax, pos=positions, reveal=order[: t + 1],
                               highlight=None if done else order[t], cmap=cmap, vmax=limit, colorbar=False,
                               weight=weight)
        fit_title(ax, "every δ computed, in O(V + E)" if done else
                   f"backward sweep, step {t + 1}/{len(order)}: δ_{order[t]!s} from its successors S_{order[t]!s}")

    frames = [*range(len(order) + 1), len(order), len(order)]
    animation = FuncAnimation(fig, frame, frames=frames, interval=1000 * seconds, repeat=True)
    if path is not None:
        animation.save(path, writer=PillowWriter(fps=1 / seconds), dpi=dpi)
    return animation
