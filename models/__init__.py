"""The models: one package each, found by `common.serving.registry`."""
