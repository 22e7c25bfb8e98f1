"""The daemon's HTTP face: a JSON API, a live event stream (SSE), agent cards and the web console."""
