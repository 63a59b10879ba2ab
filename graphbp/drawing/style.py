"""Sizes and colours shared by every drawing of the package (fonts in points)."""

__all__ = ["MAX_LABELLED_NODES", "HIGHLIGHT_COLOR", "MIN_FONT", "NAME_FONT", "LABEL_FONT"]

MAX_LABELLED_NODES = 40


HIGHLIGHT_COLOR = "#e08000"


MIN_FONT = 7.0  # points: no text is drawn smaller


NAME_FONT = 9.0


LABEL_FONT = 8.0
