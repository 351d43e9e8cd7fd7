"""Widgets of the terminal UI (one widget a module)."""
