"""Reading and writing recordings, channel montages, hypnograms and marks."""
