"""Tests for latentkit.distributions."""
