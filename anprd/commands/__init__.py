"""The `anprd` subcommands, one module each."""
