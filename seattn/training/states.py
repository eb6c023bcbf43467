"""The names of a run's states and phases, and of the queue's word on a job: each named once.

Plain Python (no torch, no pandas), so the command line can name them cheaply.
"""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    """A run's state as readers show it."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED = "stopped"
    FAILED = "failed"
    # Never written: a reader's verdict on a "running" run whose process is gone.
    INTERRUPTED = "interrupted"


ACTIVE_STATES = (RunState.QUEUED, RunState.RUNNING)
RESUMABLE_STATES = (RunState.STOPPED, RunState.FAILED, RunState.INTERRUPTED)


class Phase(StrEnum):
    """What a run is doing; the trainer writes all but the first two and the last but one."""

    QUEUED = "queued"
    STARTING = "starting"  # the launcher is starting the trainer
    LOADING_DATA = "loading data"
    DECODING = "decoding images"
    TRAINING = "training"
    VALIDATING = "validating"
    EPOCH_DONE = "epoch done"
    COMPLETED = "completed"
    STOPPED = "stopped"
    STOPPED_BEFORE_START = "stopped before it started"
    FAILED = "failed"


class JobState(StrEnum):
    """The queue's word on a run, in job.json."""

    QUEUED = "queued"
    LAUNCHED = "launched"  # a launcher process was started for it
    CANCELLED = "cancelled"  # stopped while it waited in the queue
    ENDED = "ended"  # the launcher ended before the trainer took over (see "ended_as")


class FailureKind(StrEnum):
    """What made a run fail, as the trainer records it in status.json ("failure")."""

    DATA = "data"  # the data could not be loaded (DataError): a resume fails the same way
    SETTINGS = "settings"  # the run's settings were refused (ValueError): so would a resume's
    OTHER = "other"  # anything else: a resume may get further


# Failures a resume with the same settings would repeat: such a run is started again, edited.
REPEATED_ON_RESUME = (FailureKind.DATA, FailureKind.SETTINGS)
