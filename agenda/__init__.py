"""The composition root: settings, wiring and the `agenda` command line above all layers."""
