"""How each simulated courier behaves, pure: the pace of its transit legs per receiving province,
its own anomaly rates, and the fast-forward that lets a demo see days of transit in minutes.

A *character* is ``{"couriers": {code: {"pace": p, "provinces": {省: p}, "rates": {kind: r}}},
"fast_forward": f}``, every part optional, or ``{"preset": name}`` (with ``fast_forward`` beside
it to replace the preset's). ``pace`` multiplies the transit legs of a parcel
(揽收 → hubs → out for delivery; the door steps and the morning delivery rounds are the
couriers' own), a province's pace replaces the courier's there. A courier with ``rates`` draws
its parcels' anomalies from them instead of the sandbox-wide rates. ``fast_forward`` f > 1: each
event of a parcel shipped at t, stamped at t + d as a real courier would stamp it, becomes due
(queried, pushed, shown) at t + d / f on the sandbox clock — the stamps stay realistic, so
delivery times read in hours and days, while a demo sees them within minutes.

Everything is fixed when a parcel's timeline is first built (the pace and fast-forward are kept
in its plan), and every draw is seeded by the tracking number: the same numbers give the same
story whatever the order or the moment they are asked about.
"""
from __future__ import annotations

from typing import Any

from .k100_wire import K100_COMPANIES
from .timeline import ANOMALIES

MAX_PACE = 10.0
MAX_FAST_FORWARD = 100_000.0


# The demo's couriers (`fahuo demo`): 中通 the steady baseline; 韵达 as quick elsewhere but
# clearly slow into 广东 and more often failing at the door; 圆通 as quick as 中通, refused and
# sent back more often. 1200×: a 2-day parcel lives under 3 minutes.
PRESETS: dict[str, dict[str, Any]] = {
    "demo": {
        "couriers": {
            "zhongtong": {"pace": 1.0, "rates": {"never_collected": 0.01, "stalled": 0.01,
                                                 "failed_delivery": 0.02, "refused": 0.01}},
            "yunda": {"pace": 1.0, "provinces": {"广东省": 2.0},
                      "rates": {"never_collected": 0.01, "stalled": 0.02, "failed_delivery": 0.12,
                                "refused": 0.02}},
            "yuantong": {"pace": 1.0, "rates": {"never_collected": 0.01, "stalled": 0.01,
                                                "failed_delivery": 0.03, "refused": 0.08,
                                                "returned": 0.03}},
        },
        "fast_forward": 1200.0,
    },
}


def _rates(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: rates must be an object of anomaly kind → share")
    unknown = set(raw) - set(ANOMALIES)
    if unknown:
        raise ValueError(f"{where}: unknown anomaly kinds {sorted(unknown)}; one of {', '.join(ANOMALIES)}")
    clean = {k: float(v) for k, v in raw.items()}
    if any(not 0.0 <= v <= 1.0 for v in clean.values()) or sum(clean.values()) > 1.0 + 1e-9:
        raise ValueError(f"{where}: rates must be within 0..1 and sum to at most 1")
    return clean


def _pace(raw: Any, where: str) -> float:
    try:
        p = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: pace must be a number") from None
    if not 0.1 <= p <= MAX_PACE:
        raise ValueError(f"{where}: pace must be within 0.1..{MAX_PACE:g}")
    return p


def parse(conf: Any) -> dict[str, Any]:
    """A validated character (``{"preset": "demo"}`` names one of :data:`PRESETS`); ``{}`` clears it.
    Raises ValueError naming what is wrong; nothing is half-applied."""
    if not isinstance(conf, dict):
        raise ValueError("the courier character must be a JSON object")
    if "preset" in conf:  # a preset, its fast-forward optionally replaced
        if set(conf) - {"preset", "fast_forward"} or conf["preset"] not in PRESETS:
            raise ValueError(f"preset takes fast_forward only beside it and is one of {', '.join(PRESETS)}")
        conf = {**PRESETS[conf["preset"]], **{k: v for k, v in conf.items() if k == "fast_forward"}}
    unknown = set(conf) - {"couriers", "fast_forward"}
    if unknown:
        raise ValueError(f"unknown character keys {sorted(unknown)}; use couriers, fast_forward")
    out: dict[str, Any] = {"couriers": {}, "fast_forward": 1.0}
    ff = conf.get("fast_forward", 1.0)
    try:
        out["fast_forward"] = float(ff)
    except (TypeError, ValueError):
        raise ValueError("fast_forward must be a number") from None
    if not 1.0 <= out["fast_forward"] <= MAX_FAST_FORWARD:
        raise ValueError(f"fast_forward must be within 1..{MAX_FAST_FORWARD:g}")
    couriers = conf.get("couriers", {})
    if not isinstance(couriers, dict):
        raise ValueError("couriers must be an object of courier code → behaviour")
    for code, spec in couriers.items():
        if code not in K100_COMPANIES:
            raise ValueError(f"unknown courier {code!r}; one of {', '.join(K100_COMPANIES)}")
        if not isinstance(spec, dict) or set(spec) - {"pace", "provinces", "rates"}:
            raise ValueError(f"couriers.{code}: an object with pace, provinces, rates only")
        c: dict[str, Any] = {"pace": _pace(spec.get("pace", 1.0), f"couriers.{code}.pace")}
        provs = spec.get("provinces", {})
        if not isinstance(provs, dict) or not all(isinstance(p, str) and p for p in provs):
            raise ValueError(f"couriers.{code}.provinces must map province names to a pace")
        c["provinces"] = {p: _pace(v, f"couriers.{code}.provinces.{p}") for p, v in provs.items()}
        if "rates" in spec:
            c["rates"] = _rates(spec["rates"], f"couriers.{code}")
        out["couriers"][code] = c
    return out


def pace_for(character: dict[str, Any], courier: str, province: str) -> float:
    c = character.get("couriers", {}).get(courier)
    if c is None:
        return 1.0
    return float(c["provinces"].get(province, c["pace"]))


def rates_for(character: dict[str, Any], courier: str, default: dict[str, float]) -> dict[str, float]:
    c = character.get("couriers", {}).get(courier)
    return c["rates"] if c is not None and "rates" in c else default


def stamp_due(events: list[dict[str, Any]], base: int, fast_forward: float) -> list[dict[str, Any]]:
    """Give each event without one its ``due``: when it happens on the sandbox clock."""
    for e in events:
        if "due" not in e:
            e["due"] = e["at"] if fast_forward <= 1.0 else base + (e["at"] - base) / fast_forward
    return events


def event_now(base: int, now: float, fast_forward: float) -> float:
    """The sandbox clock's ``now`` on a fast-forwarded parcel's own stamps."""
    return now if fast_forward <= 1.0 else base + (now - base) * fast_forward
