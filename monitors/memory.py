"""Handing freed C-heap memory back to the system.

glibc keeps freed blocks of a long-running process resident: a parse of large JSON (an
export, langdetect's profiles) leaves tens of megabytes nobody uses until malloc_trim.
"""

from __future__ import annotations

import ctypes


def release_free_memory() -> None:
    """Return the C heap's free pages to the system (glibc's malloc_trim; elsewhere none)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 (glibc only)
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()
