"""The Optuna study of a search: its storage and binding (storage.py), the objectives, the space of recipes, one
trial, and the workers that run trials (workers.py, pool.py, failures.py)."""
