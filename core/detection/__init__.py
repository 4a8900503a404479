"""Automatic spindle detection, automatic staging and the sigma-power trace."""
