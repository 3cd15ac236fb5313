"""Latent-space explorer: a FastAPI app with one static page (``latentkit serve RUN``).

:func:`create_app` builds the app for a trained model and optional data; see
:mod:`latentkit.serve.app` for the routes and :mod:`latentkit.serve.validation` for the
request limits. Importing this package imports FastAPI, so the command line imports it lazily.
"""

from __future__ import annotations

from latentkit.serve.app import create_app

__all__ = ["create_app"]
