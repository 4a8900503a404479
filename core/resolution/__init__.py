"""Resolution matrices of linear inverse methods and their metrics."""
