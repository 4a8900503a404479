"""The session: one place that assembles every analysis, its workspace, autosave, settings and the demo."""
