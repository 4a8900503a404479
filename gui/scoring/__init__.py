"""Panels for marks, stages, detection and agreement."""
