"""Where the workspace is, what its config file says, and how gutstride logs.

The workspace folder is chosen in this order: an explicit ``--workspace``, ``$GUTSTRIDE_WORKSPACE``,
then ``./gutstride-workspace``. Inside it, ``config.toml`` holds per-workspace settings; keys not set there
take the defaults in :data:`DEFAULTS`.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gutstride.errors import BadInputError

ENV_WORKSPACE = "GUTSTRIDE_WORKSPACE"
DEFAULT_WORKSPACE = "gutstride-workspace"
CONFIG_NAME = "config.toml"

#: Settings a workspace may override in its ``config.toml``.
DEFAULTS: dict[str, Any] = {
    # How many worker processes an import may use (0 = one per core).
    "import_workers": 0,
    # Minimum number of observations before a personal statistic is shown (below it: "not enough data yet").
    "min_observations": 5,
    # Log level for the ``gutstride`` logger.
    "log_level": "WARNING",
    # IANA time zone (e.g. "Europe/Copenhagen") of times written without an offset (CSV exports of Garmin
    # Connect, Runkeeper, Fitbit...); "" = the machine's time zone.
    "time_zone": "",
    # The day reports are computed for, YYYY-MM-DD; "" = today. The demo workspace sets its last day (its data is a
    # fixed year), so that its report does not age.
    "report_date": "",
}


def workspace_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the workspace folder: ``explicit``, else ``$GUTSTRIDE_WORKSPACE``, else ``./gutstride-workspace``."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get(ENV_WORKSPACE)
    if env:
        return Path(env).expanduser()
    return Path.cwd() / DEFAULT_WORKSPACE


@dataclass(frozen=True)
class Settings:
    """The effective settings of one workspace: defaults overlaid with its ``config.toml``."""

    workspace: Path
    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def load_settings(workspace: Path) -> Settings:
    """Read ``workspace/config.toml`` (if present) over :data:`DEFAULTS`.

    Raises
    ------
    BadInputError
        If the file is not valid TOML or sets a key gutstride does not know.
    """
    values = dict(DEFAULTS)
    config = workspace / CONFIG_NAME
    if config.is_file():
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise BadInputError(f"{config}: not valid TOML ({exc})") from None
        unknown = sorted(set(data) - set(DEFAULTS))
        if unknown:
            raise BadInputError(f"{config}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
        for key, value in data.items():
            if type(value) is not type(DEFAULTS[key]):
                raise BadInputError(
                    f"{config}: {key} must be a {type(DEFAULTS[key]).__name__}, not {type(value).__name__}"
                )
        values.update(data)
        if values["time_zone"]:
            try:
                ZoneInfo(values["time_zone"])
            except (ZoneInfoNotFoundError, ValueError):
                raise BadInputError(
                    f"{config}: time_zone {values['time_zone']!r} is not an IANA time zone (e.g. Europe/Copenhagen)"
                ) from None
        if values["report_date"]:
            try:
                date.fromisoformat(values["report_date"])
            except ValueError:
                raise BadInputError(
                    f"{config}: report_date {values['report_date']!r} is not a date (YYYY-MM-DD), or \"\" for today"
                ) from None
    return Settings(workspace=workspace, values=values)


def report_day(settings: Settings) -> date:
    """The day a report of this workspace is computed for: its ``report_date`` setting, else today (UTC)."""
    pinned = settings["report_date"]
    return date.fromisoformat(pinned) if pinned else datetime.now(UTC).date()


def local_zone(name: str = "") -> tzinfo:
    """The time zone of local times without an offset: ``name`` (IANA) if given, else the machine's.

    The machine's zone is ``$TZ`` if it names an IANA zone, else ``/etc/localtime`` (a zone with its daylight
    saving rules), else the fixed offset the C library reports now. ``name`` must be valid (checked on load).
    """
    if name:
        return ZoneInfo(name)
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        try:
            return ZoneInfo(env)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with open("/etc/localtime", "rb") as handle:
            return ZoneInfo.from_file(handle, key=_localtime_key())
    except (OSError, ValueError):
        return datetime.now().astimezone().tzinfo or UTC


def _localtime_key() -> str:
    """The IANA name ``/etc/localtime`` links to, or ``"localtime"``."""
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:
        return "localtime"
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else "localtime"


def zone_label(zone: tzinfo) -> str:
    """A readable name of ``zone`` for messages (the IANA key when there is one)."""
    return str(getattr(zone, "key", None) or zone)


def configure_logging(level: str = "WARNING", debug: bool = False) -> None:
    """Send the ``gutstride`` logger to stderr at ``level`` (DEBUG when ``debug``)."""
    logger = logging.getLogger("gutstride")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else level.upper())
