"""Fine-tuning an ONNX model on MNIST training images (`train.py`), through the ONNX->torch interpreter
(`torchgraph.py`, operators in `torchgraph_ops.py`); shared by the passes that train (prune, cluster)."""
