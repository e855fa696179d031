"""Traces: ITF files, their codec, the bounded reader and the swimlane view."""
