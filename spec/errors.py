"""Errors of the spec: a refused input names the rule that refused it."""

from __future__ import annotations


class ProtocolError(Exception):
    """A transition refused its input; `rule` is the PROTOCOL.md rule that refused it (I1, Q2 ...)."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"{rule}: {reason}")
        self.rule = rule
        self.reason = reason


class ParamsError(ValueError):
    """Parameters break a quorum condition (Q1-Q6) or are malformed; `condition` names which."""

    def __init__(self, condition: str, reason: str) -> None:
        super().__init__(f"{condition}: {reason}")
        self.condition = condition
        self.reason = reason
