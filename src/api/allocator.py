"""glibc's allocator tuned for the long-running processes (``platforms serve``, its workers,
``platforms projections run``): at most two malloc arenas, and blocks of 64 KiB or more mapped
on their own.

Both keep a process's memory from creeping up with the hours (measured by the soak,
``bench/soak.py``; README, "Soak"):

* glibc gives each thread that meets a busy arena an arena of its own, up to eight per CPU. A
  serving process runs its requests on a pool of threads, and each thread's arena keeps freed
  blocks that no other thread reuses and that are never returned to the system. Two arenas cost
  nothing measurable here: the work is in the database and in Python, under one interpreter lock.
* glibc's mmap threshold rises to the size of the largest block freed (up to 32 MiB), after
  which such blocks come from the heap. A platform's dict of objections is copied by every
  command on it (a refused command leaves no trace), and the platform's page is rendered anew
  after each event: blocks that grow with every objection, each a little larger than the hole
  the last one left. Mapped on their own, they go back to the system when freed.

Values the operator set in the environment (``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_``)
are kept. In the child processes glibc reads them from the environment as they start; in this
process ``mallopt`` sets them.
"""

from __future__ import annotations

import ctypes
import logging

from .settings import malloc_tuning

log = logging.getLogger(__name__)

ARENAS = 2
MMAP_THRESHOLD = 64 * 1024
# glibc's malloc.h
M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3


def tune_allocator(arenas: int = ARENAS, mmap_threshold: int = MMAP_THRESHOLD) -> bool:
    """Tune this process (from now on) and the processes it starts; returns whether this
    process's allocator took both settings (False off glibc, or for a setting that is not a
    whole number, which glibc ignores too)."""
    chosen = malloc_tuning({"MALLOC_ARENA_MAX": arenas, "MALLOC_MMAP_THRESHOLD_": mmap_threshold})
    try:
        # The C library already loaded into this process (ctypes.util.find_library would run
        # ldconfig in a child process to find it again).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, Windows): nothing to tune
        return False
    took = True
    for name, option in (("MALLOC_ARENA_MAX", M_ARENA_MAX), ("MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD)):
        value = chosen[name]
        if value is None:
            log.warning("%s is not a whole number; glibc's default applies", name)
            took = False
        else:
            took = bool(mallopt(option, value)) and took
    return took
