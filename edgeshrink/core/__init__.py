"""The ONNX core every room stands on: read and save models (model.py, with repair.py), one index over a graph
(graph.py), and how to feed a model MNIST pixels and read its digit (signature.py)."""
