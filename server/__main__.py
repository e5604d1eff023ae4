"""`python -m server` runs the same command line as the `square-customers-mcp` script."""

from server.cli import main

raise SystemExit(main())
