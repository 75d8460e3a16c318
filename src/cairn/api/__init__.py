"""HTTP adapters: one thin module per wire dialect over the shared core."""
