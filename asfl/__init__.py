"""asfl: verification-grade reference implementation of ASFL (arXiv:2601.04930).

The layers install under this name: `asfl.spec` (the protocol), `asfl.properties` (its
verification), `asfl.reference` (concrete runs). This package itself is only the CLI.
"""

__version__ = "0.1.0"
