"""A deterministic, realistic demo graph for the hub, generated as exchange-file rows.

Why a generator and not fixtures: the hub has to be exercised at volume (up to a million
subjects) and the analyses need known answers. ``demo.seed.generate(subjects, seed)`` streams rows
in the format of docs/data-format.md; the same arguments always give byte-identical rows in the
same order, because every random choice comes from one ``random.Random(seed)`` and nothing
depends on time, ``hash()`` of strings or set order. ``demo.planted.PLANTED`` describes
hand-built cases with fixed identities so tests can assert on them.

Nothing but the command line (``hub seed`` and ``hub up``, which the benchmarks run too) and the
tests uses this package; the API and the workers never load it.
"""
