"""registryd: a gRPC coordination daemon that tracks AI agents across worker runtimes."""

__version__ = "0.1.0"
