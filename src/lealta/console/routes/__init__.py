"""The console's routes, one module per area; :func:`lealta.console.web.install` mounts them."""
