"""One module per `asfl` subcommand; each exposes `register(subparsers)`."""
