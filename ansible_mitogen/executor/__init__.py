"""One task on the controller: connection plugin and action path."""
