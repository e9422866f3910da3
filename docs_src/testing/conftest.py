pytest_plugins = ["ravyn.pytest_plugin"]  # the app, client and captured_events fixtures
