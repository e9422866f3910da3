"""Work run after the response is sent: annotate a parameter ``BackgroundTasks`` and add to it."""

from lilya.background import Task as BackgroundTask
from lilya.background import Tasks as BackgroundTasks

__all__ = ["BackgroundTask", "BackgroundTasks"]
