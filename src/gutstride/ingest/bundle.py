"""What a whole-account health export holds once read: activities, log entries and profile values together.

Apple Health, Fitbit and Google Fit exports are not one activity per file: one archive holds workouts, heart rate,
sleep, symptoms and resting heart rate. Their readers return an :class:`ExportBundle`, stored in one go by
:func:`gutstride.store.bundle.save_bundle`.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from gutstride.model.activity import Activity
from gutstride.model.log_entry import LogEntry


@dataclass
class ExportBundle:
    """One export, read.

    ``extras`` has one dict per activity, kept with the activity's source (energy in kcal, the platform's own
    statistics, notes). ``counts`` says how many of each thing were read, for the import summary (``headline``),
    and ``warnings`` what was left out or did not agree.
    """

    format: str
    activities: list[Activity] = field(default_factory=list)
    extras: list[dict[str, Any]] = field(default_factory=list)
    entries: list[LogEntry] = field(default_factory=list)
    resting_hr: list[tuple[date, float]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    headline: str = ""

    def resting_hr_recent(self, days: int = 30) -> float | None:
        """Median resting heart rate over the last ``days`` days with a value (None without any)."""
        if not self.resting_hr:
            return None
        last = max(day for day, _ in self.resting_hr)
        return float(statistics.median(v for day, v in self.resting_hr if (last - day).days < days))
