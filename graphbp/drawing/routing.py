"""The course of each edge round the nodes it does not join: pure numpy, in any length unit.

An edge's course is an arc curvature (a float: matplotlib's ``arc3``, a
quadratic Bézier whose control point lies ``rad`` × the chord off the chord's
midpoint) or a tuple of waypoints it passes horizontally (a chain of cubic
Béziers, see :func:`route_segments`). :func:`edge_courses` chooses them; the
matplotlib drawing and the HTML explorer both draw what it chooses
(:func:`course_beziers` gives any course as cubic Bézier pieces).
"""

from __future__ import annotations

import numpy as np

__all__ = ["BENDS", "edge_courses", "route_segments", "route_curve", "course_beziers", "points_along"]

BENDS = (0.06, 0.12, 0.2, 0.3, 0.4, 0.55, 0.75, 1.0)  # arc curvatures tried, each to either side, least first




def edge_courses(positions: dict, edgelist, scale, radius: float, bounds, clearance: float = 4.0) -> dict:
    """Edge -> its course: an arc curvature (float), or the waypoints (tuple of (x, y)) of a routed edge.

    An arc is matplotlib's ``arc3`` (a quadratic Bézier with its control point
    `rad` × the chord off the midpoint), sampled here; the least bend (either
    side) that keeps it `radius` + `clearance` clear of every node it does not touch,
    measured on the drawing, is taken; a bend that leaves `bounds` is not.
    When no arc clears every node (a long edge across full columns), the edge
    is routed instead (see :func:`_route`) through the gaps of the columns it
    crosses; only when that fails too (an edge running right to left, between
    the bands of a folded layout) is the arc passing farthest from the nodes taken.

    Parameters
    ----------
    positions : dict
        Node -> (x, y) in layout units.
    edgelist : iterable of (u, v)
        The edges to route.
    scale : (float, float)
        The length of one layout unit in x and in y on the drawing (points on a figure, pixels on a page).
    radius : float
        The nodes' radius, in the drawing's length unit.
    bounds : ((xmin, xmax), (ymin, ymax))
        The drawing's limits in layout units.
    clearance : float, default 4.0
        The gap an edge keeps from the circles of the nodes it does not join, in the drawing's length unit.

    Returns
    -------
    dict
        Edge -> arc curvature, or routed waypoints in layout units (see :func:`course_beziers`).

    Examples
    --------
    >>> pos = {"a": (0, 0), "b": (1, 0), "c": (2, 0)}
    >>> edge_courses(pos, [("a", "b"), ("a", "c")], (50, 50), 10, ((-0.5, 2.5), (-1, 1)))
    {('a', 'b'): 0.06, ('a', 'c'): 0.3}
    """
    from scipy.spatial import cKDTree

    scale = np.asarray(scale, dtype=float)
    low, high = np.array([bounds[0][0], bounds[1][0]]) * scale, np.array([bounds[0][1], bounds[1][1]]) * scale
    index = {n: r for r, n in enumerate(positions)}
    points = np.array(list(positions.values()), dtype=float) * scale
    tree = cKDTree(points)
    need = radius + clearance
    columns = _node_columns(points, radius)
    choices = np.array([side * rad for rad in BENDS for side in (1, -1)])
    courses = {}
    for i, j in edgelist:
        ends = (index[i], index[j])
        start, end = points[ends[0]], points[ends[1]]
        control = (start + end) / 2 + choices[:, None] * np.array([end[1] - start[1], start[0] - end[0]])
        # Samples a third of `need` apart or closer (the most bent arc is half again as long as its chord): a node
        # cannot hide between two of them.
        t = np.linspace(0.0, 1.0, max(41, int(4.5 * np.hypot(*(end - start)) / need)))[None, :, None]
        curves = (1 - t) ** 2 * start + 2 * (1 - t) * t * control[:, None, :] + t**2 * end  # bend, sample, (x, y)
        inside = np.flatnonzero(~((curves < low) | (curves > high)).any(axis=(1, 2))).tolist() or [0, 1]
        # The least bends first: most edges clear the nodes with one of them, and the rest need not be measured.
        clearance = np.full(len(choices), -np.inf)
        clearance[inside[:2]] = _clearance(tree, curves[inside[:2]], ends, need)
        if not (clearance >= need).any():
            clearance[inside] = _clearance(tree, curves[inside], ends, need)
        best = next((k for k in inside if clearance[k] >= need), max(inside, key=lambda k: clearance[k]))
        course = float(choices[best])
        if clearance[best] < need:
            waypoints = _route(start, end, columns, need, low[1], high[1])
            if waypoints is not None and \
                    _clearance(tree, route_curve(start, end, waypoints)[None], ends, need)[0] > clearance[best]:
                course = tuple((float(x), float(y)) for x, y in waypoints / scale)
        courses[(i, j)] = course
    return courses


def _clearance(tree, curves, ends, reach: float) -> np.ndarray:
    """For each curve of `curves` (curve, sample, (x, y)), the least distance from its points to a node of
    `tree` other than its two `ends`; inf when no such node is within `reach`, all a caller needs to know."""
    # Of the three nodes nearest a point, at most two are the ends: the third answers when they are.
    distance, which = tree.query(curves.reshape(-1, 2), k=min(3, tree.n), distance_upper_bound=reach)
    distance, which = distance.reshape(len(which), -1), which.reshape(len(which), -1)
    distance = np.where((which == ends[0]) | (which == ends[1]), np.inf, distance).min(axis=1)
    return distance.reshape(curves.shape[:2]).min(axis=1)


def _node_columns(points, radius) -> list[tuple[float, np.ndarray]]:
    """(x, sorted heights of its nodes) of each column of nodes: nodes less than a circle apart in x share one."""
    columns: list[list] = []
    for x, y in sorted(map(tuple, points)):
        if columns and x - columns[-1][0][-1] < radius:
            columns[-1][0].append(x)
            columns[-1][1].append(y)
        else:
            columns.append([[x], [y]])
    return [(float(np.mean(xs)), np.sort(ys)) for xs, ys in columns]


def _route(start, end, columns, need, bottom, top) -> np.ndarray | None:
    """Waypoints (in points) of an edge from `start` to `end` through one gap of each column it crosses.

    A gap is the middle between two nodes of a column at least 2 × `need`
    apart, or `need` above its top node or below its bottom one (kept within
    `bottom`, `top`); the gaps chosen are those of least vertical travel
    (a shortest path over the columns, by dynamic programming). No waypoints
    when it crosses no column; an edge running right to left (from one band of
    a folded layout to the next) takes a :func:`_detour`. None when a column
    it crosses has no gap.
    """
    if end[0] - start[0] < 2 * need:
        return _detour(start, end, columns, need)
    crossed = [(x, ys) for x, ys in columns if start[0] + need < x < end[0] - need]
    if not crossed:  # adjacent columns: leaving and meeting the nodes level clears the others of their columns
        return np.empty((0, 2))
    lanes = []
    for x, ys in crossed:
        gaps = [(a + b) / 2 for a, b in zip(ys[:-1], ys[1:]) if b - a >= 2 * need]
        gaps += [y for y in (ys[0] - need * 1.3, ys[-1] + need * 1.3) if bottom <= y <= top]
        if not gaps:
            return None
        lanes.append((x, np.array(gaps)))
    # Shortest vertical travel, column by column: cost[k] is the least travel to reach gap k of this column.
    cost, back, previous = np.zeros(1), [], np.array([start[1]])
    for _, gaps in lanes:
        total = cost[:, None] + np.abs(gaps[None, :] - previous[:, None])
        back.append(np.argmin(total, axis=0))
        cost, previous = np.min(total, axis=0), gaps
    k = int(np.argmin(cost + np.abs(previous - end[1])))
    chosen = []
    for (x, gaps), pointer in zip(reversed(lanes), reversed(back)):
        chosen.append((x, gaps[k]))
        k = int(pointer[k])
    return np.array(chosen[::-1])


def _detour(start, end, columns, need) -> np.ndarray | None:
    """Waypoints of an edge running right to left: out of `start` to the right, between the columns down (or
    up) to the widest empty row between the two nodes, along it, and between the columns into `end` from
    the left, in straight lines. None when no empty row is 2 × `need` high."""
    xs = np.array([x for x, _ in columns])
    spacing = float(np.min(np.diff(xs))) if len(xs) > 1 else 4 * need
    after = xs[xs > start[0] + need]
    before = xs[xs < end[0] - need]
    out = (start[0] + after[0]) / 2 if after.size else start[0] + spacing / 2
    into = (end[0] + before[-1]) / 2 if before.size else end[0] - spacing / 2
    low, high = sorted((start[1], end[1]))
    heights = np.unique(np.concatenate([[low, high], *(ys[(ys > low) & (ys < high)] for _, ys in columns)]))
    widest = int(np.argmax(np.diff(heights))) if heights.size > 1 else None
    if widest is None or heights[widest + 1] - heights[widest] < 2 * need:
        return None
    lane = (heights[widest] + heights[widest + 1]) / 2
    return np.array([(out, start[1]), (out, lane), (into, lane), (into, end[1])])


def route_segments(start, end, waypoints) -> list[np.ndarray]:
    """The cubic Bézier pieces (4 × 2 control points each) of a routed edge: through each waypoint
    horizontally, so that it crosses a column in the middle of its gap, with handles half a step long."""
    stops = [np.asarray(start, float), *np.asarray(waypoints, float), np.asarray(end, float)]
    pieces = []
    for a, b in zip(stops[:-1], stops[1:]):
        handle = np.array([(b[0] - a[0]) / 2, 0.0])
        pieces.append(np.array([a, a + handle, b - handle, b]))
    return pieces


def route_curve(start, end, waypoints, samples: int = 25) -> np.ndarray:
    """Points along a routed edge, `samples` per piece."""
    return _sample(route_segments(start, end, waypoints), samples)


def course_beziers(start, end, course, scale=(1.0, 1.0)) -> list[np.ndarray]:
    """Any course of :func:`edge_courses` as cubic Bézier pieces (4 × 2 control points each) in layout units.

    Parameters
    ----------
    start, end : (x, y)
        The two nodes' positions in layout units.
    course : float or tuple of (x, y)
        An arc curvature or a routed edge's waypoints, as :func:`edge_courses` chose it.
    scale : (float, float), default (1, 1)
        The lengths of one layout unit in x and y that `course` was chosen at: an arc bends
        `course` × its chord measured there, as matplotlib's ``arc3`` does on the screen.

    Examples
    --------
    >>> [piece.tolist() for piece in course_beziers((0, 0), (3, 0), 0.5)]
    [[[0.0, 0.0], [1.0, -1.0], [2.0, -1.0], [3.0, 0.0]]]
    """
    start, end = np.asarray(start, float), np.asarray(end, float)
    if isinstance(course, tuple):
        return route_segments(start, end, course)
    scale = np.asarray(scale, float)
    chord = (end - start) * scale
    control = (start + end) / 2 + course * np.array([chord[1], -chord[0]]) / scale
    # A quadratic Bézier is the cubic whose handles run two thirds of the way to its control point.
    return [np.array([start, start + 2 / 3 * (control - start), end + 2 / 3 * (control - end), end])]


def points_along(pieces, fractions, samples: int = 25) -> np.ndarray:
    """Points `fractions` of the way along a chain of cubic Bézier `pieces` (by arc length, from its start):
    where an edge's label goes.

    Examples
    --------
    >>> points_along(course_beziers((0, 0), (2, 0), ()), [0.5, 0.25]).round(1).tolist()
    [[1.0, 0.0], [0.5, 0.0]]
    """
    curve = _sample(pieces, samples)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(curve, axis=0).T))])
    return curve[np.minimum(np.searchsorted(along, np.asarray(fractions) * along[-1]), len(curve) - 1)]


def _sample(pieces, samples: int) -> np.ndarray:
    """`samples` points on each cubic Bézier piece, one after the other."""
    t = np.linspace(0.0, 1.0, samples)[:, None]
    weights = [(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3]
    return np.vstack([sum(w * p for w, p in zip(weights, piece)) for piece in pieces])
