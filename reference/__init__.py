"""asfl.reference: the spec run with concrete values (numpy vectors in F_q), and its simulators."""
