"""``python -m latentkit``: the same entry point as the ``latentkit`` command."""

from latentkit.cli.main import main

raise SystemExit(main())
