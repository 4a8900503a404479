"""The trace browser, its rows, scales and the lanes above it."""
