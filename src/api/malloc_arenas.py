"""At most two glibc malloc arenas in the long-running processes (``platforms serve``, its
workers, ``platforms projections run``).

glibc gives each thread that meets a busy arena an arena of its own, up to eight per CPU. A
serving process runs its requests on a pool of threads, so over hours each thread's arena holds
freed blocks that no other thread can reuse and that are never returned to the system: in the
soak (``bench/soak.py``) that was 5 to 11 MB per worker, growing with the hours, not with the
data. Two arenas cost nothing measurable here (the work is in the database and in Python, under
one interpreter lock) and keep a process's memory flat. ``MALLOC_ARENA_MAX`` set by the operator
is respected.
"""

from __future__ import annotations

import ctypes
import logging

from .settings import malloc_arena_limit

log = logging.getLogger(__name__)

ARENAS = 2
M_ARENA_MAX = -8  # glibc's malloc.h


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Limit this process (from now on) and the processes it starts (through the environment
    glibc reads at their start) to ``arenas`` malloc arenas, unless ``MALLOC_ARENA_MAX`` is set.
    Returns whether this process's allocator took the limit (False off glibc)."""
    wanted = malloc_arena_limit(arenas)
    if wanted is None:
        log.warning("MALLOC_ARENA_MAX is not a whole number; glibc's default applies")
        return False
    try:
        # The C library already loaded into this process (ctypes.util.find_library would run
        # ldconfig in a child process to find it again).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, Windows): nothing to limit
        return False
    return bool(mallopt(M_ARENA_MAX, wanted))
