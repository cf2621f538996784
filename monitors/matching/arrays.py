"""Append-only numpy arrays: claims arrive one at a time, and copying the whole
collection on every arrival would make indexing quadratic."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class GrowableArray:
    """Rows of a fixed width (or scalars when width is None) with amortised appends."""

    def __init__(self, dtype: type, width: int | None = None) -> None:
        self._shape = () if width is None else (width,)
        self.data = np.zeros((64, *self._shape), dtype=dtype)
        self.size = 0

    def extend(self, values: Iterable | np.ndarray) -> None:
        values = np.asarray(
            list(values) if not isinstance(values, np.ndarray) else values, dtype=self.data.dtype
        ).reshape(-1, *self._shape)
        end = self.size + len(values)
        if end > len(self.data):
            grown = np.zeros((max(end, 2 * len(self.data)), *self._shape), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : end] = values
        self.size = end

    def view(self) -> np.ndarray:
        return self.data[: self.size]
