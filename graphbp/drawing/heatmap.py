"""A matrix (a Jacobian, a Hessian) as a heat-map with ticks that never overlap."""

from __future__ import annotations

import numpy as np

from .style import MIN_FONT

__all__ = ["draw_heatmap"]

def draw_heatmap(matrix: np.ndarray, rows: list[str], columns: list[str], ax=None, title: str = "") -> dict:
    """A matrix as a heat-map on a symmetric colour scale; returns ``{"image": AxesImage, "ticks": labels}``.

    Parameters
    ----------
    matrix : numpy.ndarray
        A 2-D array (a Jacobian, a Hessian).
    rows, columns : list of str
        Tick labels.
    ax : matplotlib Axes, optional
        Where to draw (default: the current axes).
    title : str, optional

    Returns
    -------
    dict
        ``"image"``: the AxesImage; ``"ticks"``: the column tick labels
        (every k-th column's when all would overlap).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> drawn = draw_heatmap(np.array([[1.0, -2.0]]), ["y"], ["a", "b"], ax=ax)
    >>> drawn["image"].get_array().tolist(), [t.get_text() for t in drawn["ticks"]]
    ([[1.0, -2.0]], ['a', 'b'])
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    ax = plt.gca() if ax is None else ax
    limit = float(np.abs(matrix).max()) or 1.0
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    # A label every k-th cell, k such that two labels are a line and a half apart: they never overlap.
    box = ax.get_window_extent()  # the cells are square: the longer side of the matrix sets their size
    cell = min(box.width / len(columns), box.height / len(rows)) * 72.0 / ax.figure.dpi * 0.8  # room for a layout
    for set_ticks, labels in ((ax.set_xticks, columns), (ax.set_yticks, rows)):
        step = int(np.ceil(1.5 * MIN_FONT / cell))
        set_ticks(range(0, len(labels), step), labels[::step], fontsize=MIN_FONT,
                  **({"rotation": 90} if set_ticks == ax.set_xticks else {}))
    ax.set_title(title, fontsize=10)
    return {"image": image, "ticks": ax.get_xticklabels()}
