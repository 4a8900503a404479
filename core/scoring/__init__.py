"""The scorer's models: spindle marks, hypnograms, agreement and evaluation."""
