"""Policy: the I2 quota paced over the run (the spec's `PACED` table, docs/protocol.md deviation 12).

Not a mistake but a choice of ours, audited like one: `asfl audit properties/audit/policies/paced.py`.
"""

from asfl.spec.inclusion import i2_paced_releases_data

NAME = "paced"
DESCRIPTION = "I2 paced: the quota Q is spread evenly over rounds 0..R-4 instead of spent first"

RULES = {"i2_releases_data": i2_paced_releases_data}
