"""files_ms's own internal route, for operators and tests (not routed by nginx)."""

from __future__ import annotations

from pydantic import BaseModel

from liftbit_common.internal_api.route import Route


class SweepReport(BaseModel):
    expired_uploads: int = 0
    deleted_objects: int = 0
    orphaned_objects: int = 0
    aborted_multipart_uploads: int = 0


SWEEP: Route[None, SweepReport] = Route("POST", "/internal/sweep", answer=SweepReport)
