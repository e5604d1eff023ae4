"""`python -m square_customers_mcp` runs the same command line as the `square-customers-mcp` script."""

from square_customers_mcp.cli import main

raise SystemExit(main())
