"""Benchmarks of the newsflow pipeline: ``python -m bench.run`` (``make bench``).

Each module measures one thing and returns plain dictionaries; :mod:`bench.run` puts them
together, writes JSON to ``bench-results/`` and renders the tables of ``docs/BENCHMARKS.md``.
The scorer (:mod:`bench.scoring`) and the cost model (:mod:`bench.costs`) are pure and
self-contained so that the unit tests can load them without the rest of the package.
"""
