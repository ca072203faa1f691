"""``syncwright demo``: the whole pipeline on the embedded store, against local emulators."""

from syncwright.demo.example_scenario import run_example_demo

__all__ = ["run_example_demo"]
