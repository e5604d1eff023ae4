"""The fault-injection SPEC of the local API (`sandbox --faults`, SQUARE_SANDBOX_FAULTS), parsed without
loading the local API, so settings can check it at start-up.

SPEC is comma-separated `name=value`: probabilities `429`, `500`, `503`, `drop_before`, `drop_after`
(one draw per request picks at most one of them, so they must add up to at most 1), `latency` (a
separate probability) with `latency_ms` (default 50), `retry_after` (seconds, default 1) and `seed`.
Example: `429=0.06,500=0.06,503=0.06,drop_before=0.06,drop_after=0.06,latency=0.1,latency_ms=20`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FAULT_KINDS = ("429", "500", "503", "drop_before", "drop_after")
_SETTINGS = ("latency", "latency_ms", "retry_after", "seed")


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
            if name in FAULT_KINDS or name == "latency":
                if not 0 <= value <= 1:
                    raise FaultSpecError(f"{name} is a probability between 0 and 1, got {raw}")
            elif value < 0:
                raise FaultSpecError(f"{name} must not be negative, got {raw}")
            if name in FAULT_KINDS:
                spec.rates[name] = value
            elif name == "seed":
                spec.seed = int(value)
            else:
                setattr(spec, name, value)
        if sum(spec.rates.values()) > 1:
            raise FaultSpecError("the fault probabilities add up to more than 1")
        return spec
