"""The Resolution tab."""
