"""ravyn: an async web framework on Lilya whose heart is an event bus of observables."""
