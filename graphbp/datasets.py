"""Small generated data sets for training, all seeded, none downloaded.

Every function returns ``(x, t)``: inputs of shape (N, D) and targets of shape
(N, K), float64, ready for :func:`graphbp.train`. :func:`digits` is the one
real data set: scikit-learn's bundled handwritten digits (read from
scikit-learn's own files, no download). Classification targets are
0/1 (one column, for a logistic output with ``loss="bce"``) or one-hot (one
column per class, for softmax outputs with ``loss="ce"``). The same `seed`
gives the same arrays.
"""

from __future__ import annotations

import numpy as np

from .exceptions import GraphBPError

__all__ = ["xor", "bishop_fig53", "two_moons", "circles", "spiral", "digits", "BISHOP_FIG53_FUNCTIONS"]

#: Bishop PRML Figure 5.3's four functions of x.
BISHOP_FIG53_FUNCTIONS = {
    "square": np.square,
    "sin": np.sin,
    "abs": np.abs,
    "heaviside": lambda x: np.heaviside(x, 1.0),
}


def _check_count(name: str, value, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise GraphBPError(f"{name} must be an int >= {low}, got {value!r}")


def xor(signed: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The four points of exclusive or: t = 1 where exactly one input is on.

    Parameters
    ----------
    signed : bool, default False
        Inputs −1/+1 instead of 0/1. Zero-mean inputs make the 2-2-1 tanh
        network fall into a local minimum less often.

    Examples
    --------
    >>> x, t = xor()
    >>> x.tolist(), t[:, 0].tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0.0, 1.0, 1.0, 0.0])
    >>> xor(signed=True)[0].tolist()
    [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]
    """
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    t = (x[:, :1] != x[:, 1:]).astype(float)
    return (2 * x - 1 if signed else x), t


def bishop_fig53(kind: str = "sin", n: int = 50, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Bishop's Figure 5.3 data: `n` points x uniform in (−1, 1) and t = f(x), no noise.

    Parameters
    ----------
    kind : {"square", "sin", "abs", "heaviside"}, default "sin"
        f(x) = x², sin(x), |x| or the Heaviside step H(x) (1 for x ≥ 0, else 0).
        (Bishop's panel shows sin(x) on (−1, 1); so do we.)
    n : int, default 50
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    x, t : numpy.ndarray
        Shape (n, 1) each.

    Raises
    ------
    GraphBPError
        An unknown `kind` (the known ones are listed) or a bad `n`.

    Examples
    --------
    >>> x, t = bishop_fig53("square", n=3, seed=0)
    >>> x.shape, bool(np.all(np.abs(x) < 1)), bool(np.allclose(t, x**2))
    ((3, 1), True, True)
    """
    if kind not in BISHOP_FIG53_FUNCTIONS:
        raise GraphBPError(f"unknown Figure 5.3 function {kind!r}; known: {', '.join(BISHOP_FIG53_FUNCTIONS)}")
    _check_count("n", n)
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, 1))
    return x, BISHOP_FIG53_FUNCTIONS[kind](x)


def two_moons(n: int = 200, noise: float = 0.1, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, class 0 above and class 1 below, with Gaussian noise.

    Class 0 lies on the upper half of the unit circle, class 1 on a lower half
    circle shifted by (1, 0.5): not separable by a line.

    Parameters
    ----------
    n : int, default 200
        Number of points (⌈n/2⌉ of class 0).
    noise : float, default 0.1
        Standard deviation of the noise added to each coordinate.
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    x : numpy.ndarray, shape (n, 2)
    t : numpy.ndarray, shape (n, 1) of 0/1

    Examples
    --------
    >>> x, t = two_moons(4, noise=0.0, seed=0)
    >>> sorted(zip(t[:, 0].tolist(), map(tuple, x.round(3).tolist())))   # (class, point); rows are shuffled
    [(0.0, (-1.0, 0.0)), (0.0, (1.0, 0.0)), (1.0, (0.0, 0.5)), (1.0, (2.0, 0.5))]
    """
    _check_count("n", n, 2)
    upper, lower = n - n // 2, n // 2
    angle_upper, angle_lower = np.linspace(0, np.pi, upper), np.linspace(0, np.pi, lower)
    x = np.concatenate(
        [
            np.column_stack([np.cos(angle_upper), np.sin(angle_upper)]),
            np.column_stack([1 - np.cos(angle_lower), 0.5 - np.sin(angle_lower)]),
        ]
    )
    t = np.repeat([0.0, 1.0], [upper, lower])[:, None]
    return _noisy_shuffled(x, t, noise, seed)


def circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: class 0 on the unit circle, class 1 on radius `factor`.

    Parameters
    ----------
    n : int, default 200
        Number of points (⌈n/2⌉ on the outer circle).
    noise : float, default 0.05
        Standard deviation of the noise added to each coordinate.
    factor : float, default 0.5
        Radius of the inner circle, in (0, 1).
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    x : numpy.ndarray, shape (n, 2)
    t : numpy.ndarray, shape (n, 1) of 0/1 (1 = inner)

    Examples
    --------
    >>> x, t = circles(6, noise=0.0, seed=0)
    >>> radius = np.hypot(x[:, 0], x[:, 1]).round(3)
    >>> radius[t[:, 0] == 0].tolist(), radius[t[:, 0] == 1].tolist()
    ([1.0, 1.0, 1.0], [0.5, 0.5, 0.5])
    """
    _check_count("n", n, 2)
    if not 0 < factor < 1:
        raise GraphBPError(f"factor must be in (0, 1), got {factor!r}")
    outer, inner = n - n // 2, n // 2
    angle_outer = np.linspace(0, 2 * np.pi, outer, endpoint=False)
    angle_inner = np.linspace(0, 2 * np.pi, inner, endpoint=False)
    x = np.concatenate(
        [
            np.column_stack([np.cos(angle_outer), np.sin(angle_outer)]),
            factor * np.column_stack([np.cos(angle_inner), np.sin(angle_inner)]),
        ]
    )
    t = np.repeat([0.0, 1.0], [outer, inner])[:, None]
    return _noisy_shuffled(x, t, noise, seed)


def spiral(
    n: int = 300, classes: int = 3, turns: float = 0.75, noise: float = 0.1, seed=None
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class, with one-hot targets (for softmax outputs).

    Arm c has points at radius r ∈ [0.1, 1] and angle 2π(turns · r + c / classes)
    plus Gaussian noise of standard deviation `noise` on the angle.

    Parameters
    ----------
    n : int, default 300
        Number of points, spread as evenly as possible over the classes.
    classes : int, default 3
    turns : float, default 0.75
        How many times each arm winds round the centre.
    noise : float, default 0.1
    seed : int or numpy.random.Generator, optional

    Returns
    -------
    x : numpy.ndarray, shape (n, 2)
    t : numpy.ndarray, shape (n, classes), one-hot

    Examples
    --------
    >>> x, t = spiral(6, classes=3, seed=0)
    >>> x.shape, t.sum(axis=0).tolist(), t.sum(axis=1).tolist()
    ((6, 2), [2.0, 2.0, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    """
    _check_count("classes", classes, 2)
    _check_count("n", n, classes)
    rng = np.random.default_rng(seed)
    label = np.arange(n) % classes
    radius = rng.uniform(0.1, 1.0, n)
    angle = 2 * np.pi * (turns * radius + label / classes) + noise * rng.standard_normal(n)
    x = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return x, np.eye(classes)[label]


def digits(n: int | None = None, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8×8 handwritten digits: 1,797 images of 0-9, with one-hot targets (for softmax outputs).

    The images ship with scikit-learn (``sklearn.datasets.load_digits``, the
    UCI test set of 1,797 digits written by 43 people); nothing is downloaded.
    Needs the optional extra ``pip install graphbp[sklearn]``.

    Parameters
    ----------
    n : int, optional
        Keep the first `n` images of the shuffled set (default: all 1,797).
    seed : int or numpy.random.Generator, optional
        Seed of the random row order, so that the last rows make a random
        held-out set.

    Returns
    -------
    x : numpy.ndarray, shape (n, 64)
        Pixel intensities scaled from 0..16 to [0, 1], row by row.
    t : numpy.ndarray, shape (n, 10)
        One-hot: column k is the digit k.

    Raises
    ------
    GraphBPError
        scikit-learn is not installed, or `n` is not in 1..1797.

    Examples
    --------
    >>> x, t = digits(seed=0)
    >>> x.shape, t.shape, float(x.max()), t.sum(axis=0).astype(int).tolist()
    ((1797, 64), (1797, 10), 1.0, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise GraphBPError("the digits data set ships with scikit-learn: pip install 'graphbp[sklearn]'") from None
    images = load_digits()
    total = len(images.target)
    if n is not None:
        _check_count("n", n)
        if n > total:
            raise GraphBPError(f"n must be at most {total} (the digits data set has {total} images), got {n}")
    order = np.random.default_rng(seed).permutation(total)[:n]
    return images.data[order] / 16.0, np.eye(10)[images.target[order]]


def _noisy_shuffled(x, t, noise, seed) -> tuple[np.ndarray, np.ndarray]:
    """`x` plus Gaussian noise, and both arrays in one seeded random row order."""
    rng = np.random.default_rng(seed)
    x = x + noise * rng.standard_normal(x.shape)
    order = rng.permutation(len(x))
    return x[order], t[order]
