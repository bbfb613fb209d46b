"""The strategy process: activation and its hooks into ansible-core."""
