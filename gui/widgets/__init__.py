"""Widgets shared between tabs: the brain view and its colour bar."""
