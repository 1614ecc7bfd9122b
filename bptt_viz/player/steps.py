"""The steps of one pass, numbered once for the slider, the status line and the address bar.

A pass over T timesteps has the forward steps t = 1..T, then the backward steps t = T..1, then
(when the pass is part of training) the update step. Step indices are 0-based inside the code and
shown 1-based everywhere a person reads them: "Step 6 of 9 · backward pass · t = 3".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Phase = Literal["forward", "backward", "update"]
PHASE_CODES: dict[Phase, int] = {"forward": 0, "backward": 1, "update": 2}


@dataclass(frozen=True)
class Step:
    index: int  # 0-based position in the pass
    phase: Phase
    t: int  # 1-based time of the copy this step computes (0 for the update of a summed pass);
    # in an online pass: the time of the loss whose copy, error or update this step is
    copy: int = 0  # online backward steps: the copy the error of L(t) has reached


def pass_steps(T: int, with_update: bool) -> list[Step]:
    """Forward t = 1..T, backward t = T..1, and the update if ``with_update``."""
    if T < 1:
        raise ValueError("A pass needs at least one timestep.")
    steps = [Step(i, "forward", i + 1) for i in range(T)]
    steps += [Step(T + i, "backward", T - i) for i in range(T)]
    if with_update:
        steps.append(Step(2 * T, "update", 0))
    return steps


def step_label(step: Step, count: int) -> str:
    """“Step 6 of 9 · backward pass · t = 3” (1-based, as on the slider and in the status)."""
    where = {
        "forward": f"forward pass · t = {step.t}",
        "backward": f"backward pass · t = {step.t}",
        "update": "update of the weights",
    }[step.phase]
    return f"Step {step.index + 1} of {count} · {where}"


def parse_step(raw: object, count: int) -> tuple[int, str | None]:
    """The 0-based step for a 1-based ``?step=`` value, and a notice when it was not usable."""
    if raw is None or raw == "":
        return 0, None
    text = str(raw).strip()
    if not text.isdigit() or not 1 <= int(text) <= count:
        shown = text if len(text) <= 20 else text[:17] + "…"
        return 0, (
            f"The link asked for step “{shown}”, but this pass has steps 1 to {count}; "
            "showing step 1."
        )
    return int(text) - 1, None


def copy_codes(step: Step, T: int) -> str:
    """Per copy t = 1..T, what one step has visited: ``h`` not yet (its error is not computed),
    ``s`` visited, ``c`` the copy this backward step visits. Everything after the backward pass."""
    if step.phase == "forward":
        return "h" * T
    if step.phase == "update":
        return "s" * T
    return "".join("c" if s == step.t else "s" if s > step.t else "h" for s in range(1, T + 1))
