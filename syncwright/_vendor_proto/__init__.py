"""Code generated from vendors' published interface definitions (protobuf), with the sources.

Neutral ground: connectors and emulators both import from here, never from each other.
"""
