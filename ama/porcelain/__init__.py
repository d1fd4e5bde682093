"""Porcelain: commands for people, one module each."""
