"""The generic location engine: no estate vocabulary.

- :mod:`~estate.locate.problem`: :class:`LocationProblem` (sites, zones, sparse costs).
- :mod:`~estate.locate.formulate`: each objective as a solver-neutral sparse MILP.
- :mod:`~estate.locate.heuristics`: greedy and interchange incumbents.
- :mod:`~estate.locate.cover_core`: large set covers: core, reduced-cost fixing, dominance.
- :mod:`~estate.locate.lagrange`: Lagrangian branch-and-bound for the p-median (no MIP solver).
- :mod:`~estate.locate.solve`: the only module that knows HiGHS and PuLP.
- :mod:`~estate.locate.instances`: readers for the published benchmark formats.

See ``docs/locate.md``.
"""

from estate.locate.problem import OBJECTIVES, LocationProblem, ProblemError

__all__ = ["OBJECTIVES", "LocationProblem", "ProblemError"]
