"""Plumbing: small, stable, scriptable commands, one module each."""
