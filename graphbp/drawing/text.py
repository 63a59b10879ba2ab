"""Texts that fit: sizes measured with the figure's renderer, names abbreviated into a key, equations and titles
wrapped, footers stacked under the axes, and labels that would cover a text or a node left out."""

from __future__ import annotations

import re

import numpy as np

from .style import MIN_FONT, NAME_FONT

__all__ = ["text_points", "fitting_font", "node_names", "key_text", "wrap_equation", "fit_title", "footer",
           "stack_footers", "fit_footers", "text_extent", "declutter"]

def text_points(text: str, fontsize: float, ax) -> np.ndarray:
    """(width, height) of `text` at `fontsize`, in points, as the figure's renderer draws it."""
    probe = ax.text(0, 0, text, fontsize=fontsize)
    extent = probe.get_window_extent(ax.figure.canvas.get_renderer())
    probe.remove()
    return np.array([extent.width, extent.height]) * 72.0 / ax.figure.dpi


def fitting_font(text: str, diameter: float, ax) -> float:
    """The name font: NAME_FONT when the name fits the circle at it, else MIN_FONT."""
    return NAME_FONT if text_points(text, NAME_FONT, ax)[0] <= diameter - 3 else MIN_FONT


def node_names(nodes, diameter: float, ax) -> dict:
    """Node -> the text written in its circle: str(node), or #k when that does not fit at MIN_FONT."""
    names, k = {}, 0
    for n in nodes:
        if text_points(str(n), MIN_FONT, ax)[0] <= diameter - 3:
            names[n] = str(n)
        else:
            k += 1
            names[n] = f"#{k}"
    return names


def key_text(abbreviated: dict, ax) -> str:
    """'#1 = name   #2 = name ...' in as many lines as the axes' width needs."""
    entries = [f"{short} = {node!r}" for node, short in abbreviated.items()]
    entries[0] = "key: " + entries[0]
    width = ax.get_window_extent().width * 72.0 / ax.figure.dpi - 6  # the box's padding
    lines, line = [], ""
    for entry in entries:
        candidate = f"{line}   {entry}" if line else entry
        if line and text_points(candidate, MIN_FONT, ax)[0] > width:
            lines.append(line)
            candidate = entry
        line = candidate
    return "\n".join([*lines, line])


def wrap_equation(equation: str, ax, fontsize: float = 10) -> str:
    """Break each mathtext line of `equation` that is wider than the axes (so that it stays clear of the
    colour bar) at its sums and lists, continuing on indented lines."""
    room = ax.get_window_extent().width * 72.0 / ax.figure.dpi - 16
    lines = []
    for line in equation.split("\n"):
        if text_points(line, fontsize, ax)[0] <= room:
            lines.append(line)
            continue
        body = line.strip("$").replace(r"\left(", "(").replace(r"\right)", ")")
        pieces: list[str] = []
        for piece in re.split(r"(?= \+ |,\\ )", body):
            if pieces and _open_braces(pieces[-1]):  # inside a name such as \mathrm{(0,\ 1)}: not a break
                pieces[-1] += piece
            else:
                pieces.append(piece)
        current = ""
        for piece in pieces:
            if current and text_points(f"${current}{piece}$", fontsize, ax)[0] > room:
                lines.append(f"${current}$")
                current = r"\quad " + piece.lstrip(",")
            else:
                current += piece
        lines.append(f"${current}$")
    return "\n".join(lines)


def fit_title(ax, title: str, fontsize: float = 10.0):
    """``ax.set_title`` at a smaller font (down to MIN_FONT), then broken at spaces, until each line is narrower
    than the figure: a title never runs off the figure's sides."""
    box, width = ax.get_position(), ax.figure.get_figwidth() * 72.0
    centre = (box.x0 + box.x1) / 2 * width  # a title is centred on its axes, not on the figure
    room = 2 * min(centre, width - centre) - 24  # 12 points clear of each side
    while fontsize > MIN_FONT and max(text_points(line, fontsize, ax)[0] for line in title.split("\n")) > room:
        fontsize = max(MIN_FONT, fontsize - 0.5)
    lines = []
    for line in title.split("\n"):
        current = ""
        for word in line.split(" "):
            if current and text_points(f"{current} {word}", fontsize, ax)[0] > room:
                lines.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
        lines.append(current)
    return ax.set_title("\n".join(lines), fontsize=fontsize)


def _open_braces(mathtext: str) -> int:
    """How many groups `mathtext` opens and leaves open (escaped braces \\{ \\} are text, not groups)."""
    return len(re.findall(r"(?<!\\){", mathtext)) - len(re.findall(r"(?<!\\)}", mathtext))


def footer(ax, text: str, fontsize: float, edge_color) -> object:
    """A text under the axes (placed by :func:`stack_footers`)."""
    box = {"boxstyle": "round,pad=0.4", "fc": "white", "ec": edge_color} if edge_color else None
    return ax.text(0.0, 0.0, text, transform=ax.transAxes, ha="left", va="top", fontsize=fontsize, bbox=box,
                   zorder=7)


def stack_footers(ax, footers, colorbar=None) -> None:
    """Shrink the axes (and the colour bar) from below to make room for the footers, and put them there,
    one under the other."""
    if not footers:
        return
    renderer = ax.figure.canvas.get_renderer()
    figure_height = ax.figure.bbox.height
    heights = [text_extent(text, renderer).height / figure_height + 0.012 for text in footers]
    box = ax.get_position()
    room = min(sum(heights) + 0.01, 0.6 * box.height)
    ax.set_position([box.x0, box.y0 + room, box.width, box.height - room])
    if colorbar is not None:
        bar = colorbar.ax.get_position()
        # its lowest tick label reaches half a line below the bar: keep that clear of the footers too
        bottom = max(bar.y0, box.y0 + room + 10 * ax.figure.dpi / 72 / figure_height)
        colorbar.ax.set_position([bar.x0, bottom, bar.width, bar.y1 - bottom])
    top = -0.01
    for text, height in zip(footers, heights):
        # axes fraction: the axes is now (box.height - room) of the figure high
        text.set_y(top - 0.006 / (box.height - room))
        top -= height / (box.height - room)


def fit_footers(ax, footers) -> None:
    """Shrink a footer's font (down to MIN_FONT) until it ends within the axes' width."""
    renderer = ax.figure.canvas.get_renderer()
    for text in footers:
        while text_extent(text, renderer).x1 > ax.get_window_extent().x1 and text.get_fontsize() > MIN_FONT:
            text.set_fontsize(max(MIN_FONT, text.get_fontsize() - 0.5))


def text_extent(text, renderer):
    """The window extent of a text including its box."""
    from matplotlib.transforms import Bbox

    extent = text.get_window_extent(renderer)
    patch = text.get_bbox_patch()
    if patch is None:
        return extent
    text.update_bbox_position_size(renderer)  # the box follows its text only when drawn, or asked to
    return Bbox.union([extent, patch.get_window_extent(renderer)])


def declutter(ax, drawn, node_size) -> dict:
    """Hide the value labels, term boxes and edge labels that would cover a kept text or another node.

    Every text already in the figure stays (names, the equation box, the key,
    the colour bar's ticks, other panels' texts); then, in this order, each
    value label, term box and edge label is kept only if its box is inside the
    figure and overlaps nothing kept so far and no node circle other than its own.
    Returns how many of each kind were hidden.
    """
    from matplotlib.text import Text

    ax.figure.canvas.draw()  # networkx places edge labels on their arcs only when drawn
    renderer = ax.figure.canvas.get_renderer()
    radius_px = np.sqrt(node_size) / 2 * ax.figure.dpi / 72.0
    figure = ax.figure.bbox
    centres = {n: ax.transData.transform(p) for n, p in drawn["pos"].items()}
    deciding = {id(t) for kind in ("labels", "terms", "edge_labels") for t in drawn[kind].values()}
    # Everything already shown stays: names, the equation box, the key, colour-bar ticks, other panels' texts.
    kept = [text_extent(t, renderer) for t in ax.figure.findobj(Text)
            if id(t) not in deciding and t.get_visible() and t.get_text().strip()]
    left_out = {}
    for kind, texts in (("value labels", drawn["labels"]), ("term boxes", drawn["terms"]),
                        ("edge labels", drawn["edge_labels"])):
        left_out[kind] = 0
        for owner, text in texts.items():
            box = text_extent(text, renderer).padded(2.0 * ax.figure.dpi / 72)  # 2 points between texts
            touching = set(owner) if isinstance(owner, tuple) and kind != "value labels" else set()
            covers_node = any(_box_hits_circle(box, c, radius_px) for n, c in centres.items()
                              if n not in touching and not (kind == "value labels" and n == owner))
            outside = not figure.contains(box.x0, box.y0) or not figure.contains(box.x1, box.y1)
            if outside or covers_node or any(box.overlaps(other) for other in kept):
                text.set_visible(False)
                left_out[kind] += 1
            else:
                kept.append(box)
    return left_out


def _box_hits_circle(box, centre, radius) -> bool:
    nearest = np.clip(centre, [box.x0, box.y0], [box.x1, box.y1])
    return bool(np.hypot(*(nearest - centre)) < radius)
