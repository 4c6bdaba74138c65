"""Building a bundle: the page (its own files: appfiles.py), each variant's model and runtime (placement.py;
onnxruntime-web from ortweb.py), manifest.json, every file minified, joined, inlined and compressed."""
