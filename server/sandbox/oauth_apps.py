"""The applications registered with the local API's emulated Square OAuth, and Square's permission names.

An application is what Square's Developer Console holds: a client id, an optional client secret (none: a public
client that must use PKCE) and the redirect URIs it may send sellers back to, matched exactly. They come from
`create_app(oauth_apps=[...])`, a JSON file (`sandbox --oauth-apps FILE` or SQUARE_SANDBOX_OAUTH_APPS) or
`sandbox --oauth-app CLIENT_ID:REDIRECT_URI` (a public client: a secret on the command line would show in `ps`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Square's OAuth permission names (the spec's oauth2 scopes). The local API enforces the two CUSTOMERS_ ones and
# accepts the others so that an app asking for its real permission set can still sign in.
SQUARE_SCOPES = frozenset(
    (
        "ADDON_CONFIGURATIONS_READ",
        "ADDON_CONFIGURATIONS_WRITE",
        "APPOINTMENTS_ALL_READ",
        "APPOINTMENTS_ALL_WRITE",
        "APPOINTMENTS_BUSINESS_SETTINGS_READ",
        "APPOINTMENTS_READ",
        "APPOINTMENTS_WRITE",
        "BANK_ACCOUNTS_READ",
        "CASH_DRAWER_READ",
        "CHANNELS_CREATE",
        "CHANNELS_READ",
        "CHANNELS_UPDATE",
        "CUSTOMERS_READ",
        "CUSTOMERS_WRITE",
        "DEVICES_READ",
        "DEVICE_CREDENTIAL_MANAGEMENT",
        "DISCOUNT_CODES_READ",
        "DISCOUNT_CODES_WRITE",
        "DISPUTES_READ",
        "DISPUTES_WRITE",
        "EMPLOYEES_READ",
        "EMPLOYEES_WRITE",
        "GIFTCARDS_READ",
        "GIFTCARDS_WRITE",
        "INVENTORY_READ",
        "INVENTORY_WRITE",
        "INVOICES_READ",
        "INVOICES_WRITE",
        "ITEMS_READ",
        "ITEMS_WRITE",
        "LOYALTY_READ",
        "LOYALTY_WRITE",
        "MERCHANT_PROFILE_READ",
        "MERCHANT_PROFILE_WRITE",
        "ONLINE_STORE_SITE_READ",
        "ONLINE_STORE_SNIPPETS_READ",
        "ONLINE_STORE_SNIPPETS_WRITE",
        "ORDERS_READ",
        "ORDERS_WRITE",
        "PAYMENTS_READ",
        "PAYMENTS_WRITE",
        "PAYMENTS_WRITE_ADDITIONAL_RECIPIENTS",
        "PAYMENTS_WRITE_IN_PERSON",
        "PAYMENTS_WRITE_SHARED_ONFILE",
        "PAYOUTS_READ",
        "PERMISSION_SETS_READ",
        "PERMISSION_SETS_WRITE",
        "RESERVATIONS_READ",
        "RESERVATIONS_WRITE",
        "RESTAURANT_CHECKS_READ",
        "SETTLEMENTS_READ",
        "SUBSCRIPTIONS_READ",
        "SUBSCRIPTIONS_WRITE",
        "TIMECARDS_READ",
        "TIMECARDS_SETTINGS_READ",
        "TIMECARDS_SETTINGS_WRITE",
        "TIMECARDS_WRITE",
        "VENDOR_READ",
        "VENDOR_WRITE",
    )
)
# What Square asks for when the authorize URL names no scope.
DEFAULT_SCOPES = ("MERCHANT_PROFILE_READ", "PAYMENTS_READ", "SETTLEMENTS_READ", "BANK_ACCOUNTS_READ")


class OAuthConfigError(ValueError):
    """A registered application that can't be used (no client id, no redirect URI, a bad file)."""


@dataclass(frozen=True)
class OAuthApp:
    client_id: str
    redirect_uris: tuple[str, ...]
    client_secret: str | None = field(default=None, repr=False)  # never in a repr, so never in a log line

    @property
    def public(self) -> bool:
        """A client without a secret can only use PKCE."""
        return self.client_secret is None


def app_from(entry: OAuthApp | Mapping[str, Any], where: str = "oauth_apps") -> OAuthApp:
    if isinstance(entry, OAuthApp):
        return entry
    if not isinstance(entry, Mapping):
        raise OAuthConfigError(f"{where}: each application must be an object")
    unknown = sorted(set(entry) - {"client_id", "client_secret", "redirect_uris"})
    if unknown:
        raise OAuthConfigError(f"{where}: unknown field(s) {', '.join(unknown)}")
    client_id, secret, uris = entry.get("client_id"), entry.get("client_secret"), entry.get("redirect_uris")
    if not isinstance(client_id, str) or not client_id or any(c.isspace() or c == ":" for c in client_id):
        raise OAuthConfigError(f"{where}: client_id must be a non-empty string without spaces or colons")
    if secret is not None and (not isinstance(secret, str) or len(secret) < 2):
        raise OAuthConfigError(f"{where}: client_secret of {client_id} must be a string of 2 or more characters")
    if not isinstance(uris, list) or not uris or not all(isinstance(uri, str) and uri for uri in uris):
        raise OAuthConfigError(f"{where}: redirect_uris of {client_id} must be a non-empty list of URLs")
    return OAuthApp(client_id, tuple(uris), secret)


def registry(entries: Iterable[OAuthApp | Mapping[str, Any]]) -> dict[str, OAuthApp]:
    apps: dict[str, OAuthApp] = {}
    for entry in entries:
        app = app_from(entry)
        if app.client_id in apps:
            raise OAuthConfigError(f"oauth_apps: client_id {app.client_id} is registered twice")
        apps[app.client_id] = app
    return apps


def load_file(path: str) -> list[OAuthApp]:
    """`[{"client_id", "client_secret" (optional), "redirect_uris": [...]}]` from a JSON file."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise OAuthConfigError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise OAuthConfigError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(entries, list):
        raise OAuthConfigError(f"{path} must hold a JSON list of applications")
    return [app_from(entry, path) for entry in entries]


def parse_cli_app(text: str) -> OAuthApp:
    """`CLIENT_ID:REDIRECT_URI` (split at the first colon) as a public, PKCE-only application."""
    client_id, sep, uri = text.partition(":")
    if not sep:
        raise OAuthConfigError(f"--oauth-app must be CLIENT_ID:REDIRECT_URI, got {text!r}")
    return app_from({"client_id": client_id, "redirect_uris": [uri]}, "--oauth-app")
