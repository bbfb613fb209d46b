"""Packaging entry point; metadata and package discovery live in pyproject.toml.

Kept for `python setup.py ...` habits and older pip; runs on the controller.
"""
from setuptools import setup

setup()
