"""Lambda tuning: what the thumbnail function costs at each memory size, from real photos.

``measure`` runs the bundled pipeline on a file in a fresh process (CPU time, peak
memory); ``model`` turns one measurement into duration and cost at a memory size
and architecture under stated assumptions; ``report`` aggregates a corpus and picks
a recommendation that ``deploy_thumbnail_stack --memory recommended`` can read.
Only ``chart`` needs an optional dependency (matplotlib, the ``tuning`` extra).
docs/tuning.md explains the model and its assumptions.
"""
