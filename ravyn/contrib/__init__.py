"""Optional integrations; each needs its extra (e.g. the `scheduler` extra for `@scheduler`)."""
