"""The connection multiplexer processes."""
