"""The typed findings that analyses produce and the evidence engine and report consume.

A finding is a fact about one person's data, with no advice in it: an id, the period it covers, a value
and the threshold it was compared with, the direction of that comparison, how many observations it rests on,
and the claim in the evidence base it relates to.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

Domain = Literal["red_flag", "training", "symptoms", "microbiome", "data"]
Direction = Literal["above", "below", "within", "present", "absent", "not_enough_data"]


@dataclass(frozen=True)
class Finding:
    """One fact about a person's data.

    Parameters
    ----------
    id
        Stable identifier such as ``"training.share_above_70pct_hrmax"``; rules match on it.
    domain
        ``red_flag`` findings outrank everything else.
    summary
        One factual sentence with the numbers (no advice), e.g. "31% of HR time above 70% HRmax".
    value, threshold, unit
        The measured value and the threshold it was compared against.
    direction
        How ``value`` relates to ``threshold``; ``not_enough_data`` when ``n`` is below the minimum.
    n
        How many observations (sessions, days, samples) the value rests on.
    period_start, period_end
        The dates the finding covers.
    claim_id
        The claim in the evidence base it relates to, if any.
    interval
        An uncertainty interval for ``value`` (e.g. a 95% CI), if one applies.
    detail
        Extra structured data for the report (per-week series, the dates involved...).
    """

    id: str
    domain: Domain
    summary: str
    value: float | None = None
    threshold: float | None = None
    unit: str = ""
    direction: Direction = "present"
    n: int = 0
    period_start: date | None = None
    period_end: date | None = None
    claim_id: str | None = None
    interval: tuple[float, float] | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("period_start", "period_end"):
            if out[key] is not None:
                out[key] = out[key].isoformat()
        return out
