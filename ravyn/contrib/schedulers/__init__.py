"""Schedulers that run jobs with the app's lifespan (asyncz)."""
