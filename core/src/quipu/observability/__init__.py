"""Metrics, request ids, timings and logs."""
