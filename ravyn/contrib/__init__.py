"""Optional integrations; each needs its extra (e.g. `pip install "ravyn[scheduler]"`)."""
