"""Code that travels to targets and intermediaries."""
