"""What the analytics service knows: download totals per time window (liftbit_common's
DownloadWindow), asked for by time range."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from liftbit_common.errors import InvalidInput


class TimeRange(BaseModel):
    """Windows inside [since, until]: starting at or after ``since`` and ending at or before
    ``until``; an open end is unbounded. Windows are the unit: none is split or cut."""

    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def checked(cls, since: datetime | None, until: datetime | None) -> TimeRange:
        if since is not None and until is not None and since > until:
            raise InvalidInput("since must not be after until")
        return cls(since=since, until=until)
