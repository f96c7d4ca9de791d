"""What the analytics service knows: download totals per time window."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from liftbit_common.errors import InvalidInput


class DownloadWindow(BaseModel):
    window_start: datetime = Field(description="Inclusive start of the tumbling window (UTC)")
    window_end: datetime = Field(description="Exclusive end of the window (UTC)")
    downloads: int = Field(description="Downloads that occurred in the window, each event counted once")
    bytes: int = Field(description="Total bytes those downloads served")


class TimeRange(BaseModel):
    """Windows overlapping [since, until): a window is in when it ends after ``since`` and starts
    before ``until``; an open end is unbounded."""

    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def checked(cls, since: datetime | None, until: datetime | None) -> TimeRange:
        if since is not None and until is not None and since > until:
            raise InvalidInput("since must not be after until")
        return cls(since=since, until=until)
