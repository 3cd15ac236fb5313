"""Tests for latentkit.nn."""
