"""Mixed requests from several users while the broker, S3, Postgres, storage_ms and metadata_ms
are stopped and restarted one after another; then every consistency invariant must hold."""

from __future__ import annotations

import time
from collections import Counter

import httpx

from scripts.stack.info import StackInfo
from scripts.stack.invariants import Kind, check_all
from tests.support.faults import Faults
from tests.support.workload import MixedWorkload

PARTS = ("broker", "s3", "postgres", "storage_ms", "metadata_ms")
DOWN_SECONDS = 2.0


def test_invariants_hold_after_a_stream_of_requests_through_restarts(stack: StackInfo, faults: Faults) -> None:
    workload = MixedWorkload(stack.url, owners=4)
    timeline: list[str] = []
    with workload.running():
        time.sleep(1.5)
        for part in PARTS:
            faults.stop(part)
            timeline.append(f"{part} stopped")
            time.sleep(DOWN_SECONDS)
            faults.start(part)
            timeline.append(f"{part} back, healthy after {faults.wait_healthy():.1f} s")
            time.sleep(1)
    assert not workload.problems()

    report = check_all(faults.endpoints, workload.log, only_own_files=True)
    summary = workload.log.summary()
    assert report.ok, f"{report.render()}\n\nrequests: {summary}\ntimeline: {timeline}"

    # The stream really ran into the outages and really got work done, or the invariants say little.
    statuses: Counter[str] = sum(summary.values(), Counter())
    assert statuses["503"] >= 10, summary
    for kind in (Kind.UPLOAD, Kind.DOWNLOAD, Kind.DELETE, Kind.GRANT, Kind.REVOKE):
        succeeded = sum(n for status, n in summary.get(kind, Counter()).items() if status in ("200", "201", "204"))
        assert succeeded >= 5, f"only {succeeded} successful {kind}: {summary}"
    with httpx.Client(base_url=stack.url, timeout=30) as api:
        assert api.get("/health").status_code == 200
