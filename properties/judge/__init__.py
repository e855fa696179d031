"""The judgement: the monitor and the P1-P9 suite every driver calls (section 7)."""
