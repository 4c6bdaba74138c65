"""edgeshrink: shrink MNIST ONNX classifiers, prove their accuracy, bundle them for the browser.

The Python API is `edgeshrink.api`; the command line is `edgeshrink` (edgeshrink.cli). A regular package
(not a namespace package), so importlib.resources finds the recipes and the page shipped inside it.
"""
