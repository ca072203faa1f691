"""The operations queue: what could not be processed, why, and what to do about it."""

from syncwright.exceptions.queue import ExceptionQueue, ExceptionRecord
from syncwright.exceptions.service import (
    ExceptionAlreadyResolved,
    ExceptionService,
    UnknownException,
)

__all__ = [
    "ExceptionAlreadyResolved",
    "ExceptionQueue",
    "ExceptionRecord",
    "ExceptionService",
    "UnknownException",
]
