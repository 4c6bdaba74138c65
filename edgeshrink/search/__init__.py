"""`edgeshrink search`: a multi-objective Optuna study over recipes (and architectures), its Pareto front
re-measured on the test set and in Chromium, rendered as a table, plots, recipes and one bundle."""

from edgeshrink.search.edge import EdgeMeasurement, measure_edge
from edgeshrink.search.frontier.measure import Point
from edgeshrink.search.frontier.write import Frontier
from edgeshrink.search.run import Options, SearchResult, search
from edgeshrink.search.study.space import SEARCHABLE, Space, make_space

__all__ = ["EdgeMeasurement", "Frontier", "Options", "Point", "SEARCHABLE", "SearchResult", "Space",
           "make_space", "measure_edge", "search"]
