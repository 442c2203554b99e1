"""Activities without an absolute start time (a FIT file holding only relative timestamps, such as a device's ANT-FS
dump): kept, but the file's status becomes "partial" with :data:`UNDATED` as the reason, since such an activity
cannot be placed in time and the time-based analyses leave it out. Imports nothing heavy (``inspect`` uses it)."""

from __future__ import annotations

#: Why a file with an activity that has no absolute start time is "partial".
UNDATED = "no absolute start time (only relative timestamps): kept out of the time-based analyses"


def undated_status(status: str, message: str, undated: int, n: int) -> tuple[str, str]:
    """A file's (status, message) once ``undated`` of its ``n`` activities are known to have no start time."""
    if not undated or status == "error":
        return status, message
    reason = UNDATED if n == 1 else f"{undated} of {n} activities: {UNDATED}"
    return "partial", f"{message}; {reason}" if message else reason
