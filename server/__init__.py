"""How square-customers-mcp runs: settings, the Square client, the dispatcher, the MCP app, transports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("square-customers-mcp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
