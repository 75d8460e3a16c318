"""The Secoda-compatible dialect (seeds 000-002)."""
