"""The Pareto front of a search re-measured on the test set and in Chromium (measure.py), written as a table,
recipes and bundles (write.py), and plotted (plots.py, labels.py)."""
