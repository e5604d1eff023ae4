"""The fault-injection SPEC of the local API (`sandbox --faults`, SQUARE_SANDBOX_FAULTS), parsed without
loading the local API, so settings can check it at start-up.

SPEC is comma-separated `name=value`: probabilities `429`, `500`, `503`, `drop_before`, `drop_after`
(one draw per request picks at most one of them, so they must add up to at most 1), `latency` (a
separate probability) with `latency_ms` (default 50), `retry_after` (seconds, default 1) and `seed`.
Example: `429=0.06,500=0.06,503=0.06,drop_before=0.06,drop_after=0.06,latency=0.1,latency_ms=20`.
Every number is checked: finite and within its bounds (an endless sleep or a 1e308 s Retry-After is a typo).
"""

from __future__ import annotations

from dataclasses import dataclass, field

FAULT_KINDS = ("429", "500", "503", "drop_before", "drop_after")
_SETTINGS = ("latency", "latency_ms", "retry_after", "seed")
MAX_LATENCY_MS = 60_000.0  # a minute: longer than the default 30 s timeout, so a timeout can be provoked
MAX_RETRY_AFTER = 3600.0
MAX_SEED = 2**32 - 1
# name: (low, high, what it is); probabilities are every fault kind and `latency`.
_BOUNDS: dict[str, tuple[float, float, str]] = {
    **{kind: (0.0, 1.0, "a probability") for kind in (*FAULT_KINDS, "latency")},
    "latency_ms": (0.0, MAX_LATENCY_MS, "milliseconds"),
    "retry_after": (0.0, MAX_RETRY_AFTER, "seconds"),
    "seed": (0.0, float(MAX_SEED), "a whole number"),
}


class FaultSpecError(ValueError):
    pass


@dataclass
class FaultSpec:
    rates: dict[str, float] = field(default_factory=dict)
    latency: float = 0.0
    latency_ms: float = 50.0
    retry_after: float = 1.0
    seed: int | None = None

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        spec = cls()
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, raw = part.partition("=")
            name = name.strip()
            if not sep or name not in (*FAULT_KINDS, *_SETTINGS):
                known = ", ".join((*FAULT_KINDS, *_SETTINGS))
                raise FaultSpecError(f"unknown fault setting {part!r}; known: {known}")
            try:
                value = float(raw)
            except ValueError:
                raise FaultSpecError(f"{name} needs a number, got {raw!r}") from None
            low, high, what = _BOUNDS[name]
            # NaN fails both comparisons and infinities exceed every bound; a seed must also be whole.
            if not low <= value <= high or (name == "seed" and not value.is_integer()):
                raise FaultSpecError(f"{name} must be {what} from {low:.15g} to {high:.15g}, got {raw.strip()!r}")
            if name in FAULT_KINDS:
                spec.rates[name] = value
            elif name == "seed":
                spec.seed = int(value)
            else:
                setattr(spec, name, value)
        if sum(spec.rates.values()) > 1:
            raise FaultSpecError("the fault probabilities add up to more than 1")
        return spec
