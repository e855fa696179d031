"""Mutant: a release is never taken back, even when a certificate shows another set was fixed."""

NAME = "no-take-back"
DESCRIPTION = "releases are never taken back (I2), so counts overstate what was released"


def never():
    return False


RULES = {"i2_take_back": never}
