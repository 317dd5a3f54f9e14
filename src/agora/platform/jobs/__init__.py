"""Scheduled jobs: periodic housekeeping every instance may run, one instance at a time.

A ``Job`` is a name, an interval and an idempotent callable; the ``Scheduler`` runs each
job when it is due, under a lease taken in the database (``agora.platform.db.job_leases``)
so that, of any number of processes, one runs a given job at a time.
"""

from agora.platform.jobs.model import Job, JobRun, Outcome
from agora.platform.jobs.ports import JobLeases, JobState, Lease
from agora.platform.jobs.scheduler import Scheduler, UnknownJobError

__all__ = [
    "Job",
    "JobLeases",
    "JobRun",
    "JobState",
    "Lease",
    "Outcome",
    "Scheduler",
    "UnknownJobError",
]
