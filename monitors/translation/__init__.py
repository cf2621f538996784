"""Pieces of the translator (`monitors.translate`): settings, backends, chunking, rate limit."""
