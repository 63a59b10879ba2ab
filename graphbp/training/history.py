"""What a training run records: :class:`History`, and :class:`Run`, the bookkeeping that makes it.

A :class:`Run` scores θ after every epoch, writes it into the graph (or the
population's graphs) when a callback is to see it and when training ends,
calls the callback, moves the progress bar, and turns its records into one
:class:`History` per graph.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

__all__ = ["History", "Run"]


@dataclass(frozen=True, eq=False)   # arrays inside: compare histories field by field
class History:
    """What :func:`train` recorded, one entry per epoch; entry 0 is the network before training.

    Attributes
    ----------
    epoch : numpy.ndarray
        0, 1, 2, ... An epoch is one pass over the training samples for a
        first-order optimizer, one iteration for a scipy method.
    loss : numpy.ndarray
        Mean E_n over the training samples after the epoch.
    validation_loss : numpy.ndarray or None
        Mean E_n over the validation samples; None without a validation split.
    gradient_norm : numpy.ndarray
        ‖∇θ (1/N) Σ_n E_n‖ over the training samples after the epoch.
    wall_time : numpy.ndarray
        Seconds since training started.
    evaluations : numpy.ndarray
        Gradient evaluations the optimizer had used so far (a mini-batch counts as one).
    optimizer : str
        What trained the network, e.g. ``"Adam(learning_rate=0.01, ...)"`` or ``"L-BFGS-B"``.
    message : str
        Why training stopped.
    """

    epoch: np.ndarray
    loss: np.ndarray
    validation_loss: np.ndarray | None
    gradient_norm: np.ndarray
    wall_time: np.ndarray
    evaluations: np.ndarray
    optimizer: str
    message: str

    def rows(self) -> list[dict]:
        """One dict per epoch (keys: the per-epoch attributes), e.g. for CSV or JSON."""
        columns = {
            "epoch": self.epoch,
            "loss": self.loss,
            "validation_loss": self.validation_loss,
            "gradient_norm": self.gradient_norm,
            "wall_time": self.wall_time,
            "evaluations": self.evaluations,
        }
        present = {name: values.tolist() for name, values in columns.items() if values is not None}
        return [dict(zip(present, values)) for values in zip(*present.values())]


class Run:
    """The bookkeeping of one training run: records, the graph update, callback and progress bar; leaving it as a
    context manager writes the last θ into the graph and closes the bar."""

    def __init__(self, write, mean_objective, train_rows, validation_rows, callback, progress, epochs, optimizer: str,
                 norm=None):
        self.write, self.objective = write, mean_objective
        # ‖∇θ‖, or for a population one norm per graph; not np.linalg.norm: its BLAS call can take
        # milliseconds when the cores are busy
        self.norm = norm or (lambda grad: float(np.sqrt(np.square(grad).sum())))
        self.train_rows, self.validation_rows = train_rows, validation_rows
        self.callback = callback
        self.records: list[dict] = []
        self.theta, self.written = None, True
        self.evaluations = 0
        self.optimizer, self.message = optimizer, ""
        self.start = time.perf_counter()
        self.bar = tqdm(total=epochs, unit="epoch", disable=not progress, mininterval=0.5, delay=1.0, leave=False)

    def __enter__(self):
        return self

    def __exit__(self, *error) -> None:
        """The graph gets the last θ and the bar goes, however training ended (an error or an interrupt too)."""
        self.flush()
        self.bar.close()

    def record(self, theta: np.ndarray) -> bool:
        """Score θ, keep it for the graph, call back (G written first); True when the callback asks to stop."""
        error, grad = self.objective(theta, self.train_rows)
        logs = {
            "loss": error,
            "validation_loss": self.objective(theta, self.validation_rows)[0] if self.validation_rows.size else None,
            "gradient_norm": self.norm(grad),
            "wall_time": time.perf_counter() - self.start,
            "evaluations": self.evaluations,
        }
        self.records.append(logs)
        self.keep(theta)
        if self.callback:
            self.flush()
        epoch = len(self.records) - 1
        if epoch:
            self.bar.update()
            self.bar.set_postfix(loss=f"{np.min(error):.4g}", refresh=False)  # a population's best
        stop = bool(self.callback(epoch, logs)) if self.callback else False
        if stop:
            self.message = f"callback stopped training after epoch {epoch}"
        return stop

    def keep(self, theta: np.ndarray) -> None:
        """θ is the network now; the graph gets it at the next :meth:`flush`."""
        self.theta, self.written = theta, False

    def flush(self) -> None:
        """Write the kept θ into the graph (O(E) Python: once per callback, not once per epoch)."""
        if not self.written:
            self.write(self.theta)
            self.written = True

    def histories(self, count: int | None = None) -> list[History]:
        """The run's History, or each of the `count` graphs' of a population's run (whose logs hold arrays)."""
        column = {name: np.array([r[name] for r in self.records], dtype=float) for name in self.records[0]}
        per_graph = ["loss", "gradient_norm", *(["validation_loss"] if self.validation_rows.size else [])]
        return [
            History(
                epoch=np.arange(len(self.records)),
                loss=own["loss"],
                validation_loss=own.get("validation_loss"),
                gradient_norm=own["gradient_norm"],
                wall_time=column["wall_time"],
                evaluations=column["evaluations"].astype(int),
                optimizer=self.optimizer,
                message=self.message,
            )
            for own in (
                [{name: column[name] for name in per_graph}] if count is None
                else [{name: column[name][:, g] for name in per_graph} for g in range(count)]
            )
        ]  # fmt: skip

