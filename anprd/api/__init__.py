"""The HTTP server: metrics, health checks and the recognition API."""
