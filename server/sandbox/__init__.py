"""An embedded, Square-compatible Customers API (Starlette) backed by SQLite: the local API.

`create_app(db_path, token=..., seed=N)` builds the app; `app.state.store.close()` closes its database.
"""

from square_customers_mcp.sandbox.app import create_app, default_db_path, served_app
from square_customers_mcp.sandbox.store import Store

__all__ = ["Store", "create_app", "default_db_path", "served_app"]
