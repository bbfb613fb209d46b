"""Tests of the mitogen core library (run on the controller)."""
