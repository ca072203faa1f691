"""The operations queue: what could not be processed, why, and what to do about it."""

from syncwright.exceptions.classify import CLASSES, classify
from syncwright.exceptions.queue import ExceptionFilter, ExceptionQueue, ExceptionRecord
from syncwright.exceptions.service import (
    ExceptionAlreadyResolved,
    ExceptionService,
    NotEditable,
    UnknownException,
)

__all__ = [
    "CLASSES",
    "ExceptionAlreadyResolved",
    "ExceptionFilter",
    "ExceptionQueue",
    "ExceptionRecord",
    "ExceptionService",
    "NotEditable",
    "UnknownException",
    "classify",
]
