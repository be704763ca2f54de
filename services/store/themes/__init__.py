"""Themes in the store: the taxonomy, per-theme counts (``GET /themes``) and points (``GET /points``)."""
