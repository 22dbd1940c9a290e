"""批量发货 / 导入发货 jobs and their rows: two small lifecycles.

A job is made running and ends done once each of its rows was tried. A row is made pending
(it will be shipped), invalid (the preview refused it) or skipped (already shipped with this
number); only a pending row moves, once: shipped, or failed with its reason. Pure: no SQL.
"""

from __future__ import annotations

from enum import StrEnum

from fahuo.domain.lifecycle import Lifecycle


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"


class JobItemState(StrEnum):
    PENDING = "pending"
    INVALID = "invalid"
    SKIPPED = "skipped"
    SHIPPED = "shipped"
    FAILED = "failed"


J = JobState
JOB: Lifecycle[JobState] = Lifecycle("ship_job", {
    J.RUNNING: frozenset({J.DONE}),
    J.DONE: frozenset(),  # a finished job is a record: a second run is a new job
}, frozenset({J.RUNNING}))

R = JobItemState  # a job's rows
JOB_ITEM: Lifecycle[JobItemState] = Lifecycle("ship_job_item", {
    R.PENDING: frozenset({R.SHIPPED, R.FAILED}),
    R.INVALID: frozenset(),
    R.SKIPPED: frozenset(),
    R.SHIPPED: frozenset(),
    R.FAILED: frozenset(),
}, frozenset({R.PENDING, R.INVALID, R.SKIPPED}))

__all__ = ["JOB", "JOB_ITEM", "JobItemState", "JobState"]
