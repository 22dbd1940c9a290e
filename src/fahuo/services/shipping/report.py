"""What a pass reports: counts per step, as the API, the CLI and the worker show them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StepReport:
    seen: int = 0
    done: int = 0
    held: int = 0
    failed: int = 0
    calls: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class PipelineReport:
    audit: StepReport = field(default_factory=StepReport)
    plan: StepReport = field(default_factory=StepReport)
    waybills: StepReport = field(default_factory=StepReport)
    confirm: StepReport = field(default_factory=StepReport)
    recycle: StepReport = field(default_factory=StepReport)

    def summary(self) -> dict[str, dict[str, int]]:
        return {k: {"seen": v.seen, "done": v.done, "held": v.held, "failed": v.failed,
                    "calls": v.calls}
                for k, v in self.__dict__.items()}


def add(total: StepReport, step: StepReport) -> None:
    total.seen += step.seen
    total.done += step.done
    total.held += step.held
    total.failed += step.failed
    total.calls += step.calls
    total.notes += step.notes
