"""Load benchmark: the whole flow through the local stack, and endpoint throughput.

``python -m benchmarks.load`` runs both and writes the "Load" section of
docs/performance.md. Loopback only, bounded in count and time.
"""
