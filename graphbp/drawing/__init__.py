"""Drawing a network with its δ: layered layout, δ colours, and eq. 5.56 for a highlighted node.

matplotlib is imported inside the functions (as in ``networkx.drawing``), the
functions take ``ax=None`` (the current axes) and return what they drew, so
tests and users can read every label back. The package's modules, each usable
on its own:

* :mod:`~graphbp.drawing.positions`: where the nodes go (:func:`layout`, :func:`figure_for`);
* :mod:`~graphbp.drawing.routing`: the course of each edge round the nodes (pure numpy,
  shared with the HTML explorer);
* :mod:`~graphbp.drawing.text`: texts that fit, abbreviated names and their key, decluttering;
* :mod:`~graphbp.drawing.network_figure`: :func:`draw` and its parts (:func:`draw_nodes`,
  :func:`draw_edges`, :func:`draw_labels`, :func:`draw_edge_labels`);
* :mod:`~graphbp.drawing.paths`: :func:`draw_paths`; :mod:`~graphbp.drawing.heatmap`: :func:`draw_heatmap`.
"""

from .heatmap import draw_heatmap
from .network_figure import (colour_limit, draw, draw_edge_labels, draw_edges, draw_labels, draw_nodes,
                             node_diameter, points_per_unit)
from .paths import draw_paths
from .positions import COLUMN_INCHES, ROW_INCHES, figure_for, layout, network_positions
from .routing import course_beziers, edge_courses
from .style import HIGHLIGHT_COLOR, LABEL_FONT, MAX_LABELLED_NODES, MIN_FONT, NAME_FONT
from .text import fit_title, key_text, node_names, text_extent, text_points

__all__ = ["layout", "draw", "draw_paths", "draw_heatmap", "figure_for", "draw_nodes", "draw_edges", "draw_labels",
           "draw_edge_labels"]
