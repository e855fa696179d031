"""The judgement of runs (layout: properties/judge/)."""
