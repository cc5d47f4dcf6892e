"""The configuration: its typed sections, loading a file, problems in an operator's words."""
