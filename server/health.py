"""Health endpoints of the HTTP server, for load balancers and orchestrators; both answer without a token.

- `/healthz`: the process is up and serving HTTP. Always 200 `{"status":"ok"}`, checks nothing.
- `/readyz`: every readiness probe passes: 200, else 503; the body names each probe and, when it failed, why.

Probes are data (a name and an async check), so other parts (e.g. a state store) add theirs to the list. Results
are cached briefly and one run is shared by concurrent requests: a load balancer polling hard costs Square at most
one request per `CACHE_SECONDS`. Reasons are short and fixed in shape (an exception's type, a timeout): never a URL,
a token or an upstream's words, since anyone who reaches the port can read them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import anyio
import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from square_customers_mcp.square_client import SquareClient

log = logging.getLogger("square_customers_mcp.health")

PROBE_TIMEOUT = 2.0
CACHE_SECONDS = 2.0
_NO_STORE = {"Cache-Control": "no-store"}


class ProbeFailed(Exception):
    """A probe's failure, with a reason safe to show anyone who can reach /readyz."""


@dataclass(frozen=True)
class Probe:
    name: str
    check: Callable[[], Awaitable[object]]
    """Returns when the dependency is usable; raises when not (ProbeFailed says why; any other exception is
    reported by its type only)."""
    timeout: float = PROBE_TIMEOUT


class Readiness:
    """Runs the probes concurrently, each within its timeout; caches the outcome for `cache_seconds`."""

    def __init__(
        self,
        probes: Sequence[Probe],
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        names = [probe.name for probe in probes]
        if len(set(names)) != len(names):
            raise ValueError(f"probe names must be unique, got {names}")
        self.probes, self._cache_seconds, self._clock = list(probes), cache_seconds, clock
        self._lock = anyio.Lock()
        self._results: dict[str, str | None] = {}
        self._expires = float("-inf")

    async def results(self) -> dict[str, str | None]:
        """Probe name -> None if it passed, else the reason it failed."""
        async with self._lock:  # concurrent requests wait for the run under way instead of starting their own
            if self._clock() < self._expires:
                return self._results
            results: dict[str, str | None] = {}
            async with anyio.create_task_group() as group:
                for probe in self.probes:
                    group.start_soon(self._run, probe, results)
            for name, reason in results.items():
                if reason != self._results.get(name, None):  # log changes only: a load balancer polls every second
                    log.log(logging.WARNING if reason else logging.INFO, "readiness probe %s: %s", name, reason or "ok")
            self._results, self._expires = results, self._clock() + self._cache_seconds
            return results

    @staticmethod
    async def _run(probe: Probe, results: dict[str, str | None]) -> None:
        try:
            with anyio.fail_after(probe.timeout):
                await probe.check()
        except TimeoutError:
            results[probe.name] = f"no answer within {probe.timeout:g} s"
        except ProbeFailed as error:
            results[probe.name] = str(error)
        except Exception as error:  # a probe must never take /readyz down; the type says enough
            results[probe.name] = type(error).__name__
        else:
            results[probe.name] = None


def backend_probe(client: SquareClient, timeout: float = PROBE_TIMEOUT) -> Probe:
    """Square (or the local API) answers HTTP: a bare GET of the base URL through the client's own transport
    (in-process for the embedded local API). Any status counts, even 401 or 404: reachability is the question;
    whether the token is good is each call's business."""

    async def check() -> None:
        try:
            await client.ping(timeout)
        except httpx.TimeoutException:
            raise ProbeFailed(f"no answer within {timeout:g} s") from None
        except httpx.TransportError as error:
            raise ProbeFailed(f"unreachable ({type(error).__name__})") from None

    return Probe("backend", check, timeout)


def routes(probes: Sequence[Probe]) -> list[Route]:
    """`/healthz` and `/readyz` as plain Starlette routes, to add beside `/mcp` (never behind its auth)."""
    readiness = Readiness(probes)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"}, headers=_NO_STORE)

    async def readyz(request: Request) -> JSONResponse:
        results = await readiness.results()
        ready = all(reason is None for reason in results.values())
        body = {
            "status": "ok" if ready else "unavailable",
            "probes": {
                name: {"status": "ok"} if reason is None else {"status": "failed", "reason": reason}
                for name, reason in results.items()
            },
        }
        return JSONResponse(body, status_code=200 if ready else 503, headers=_NO_STORE)

    return [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
