"""The live area of Train live as one browser component: counters, loss curve, gradient norms.

While training plays, the page's fragment trains a batch of updates once a second and hands
this component the new history rows; the component (``assets/live_panel.js``, inline, no build step,
nothing fetched from another host) reveals them one by one over the next second and draws the
curves on a canvas, so the counters and the curves move at the training speed while the server
renders one small element a second. The data it takes is built by
``bptt_viz.train_view.panel_data``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent / "assets"
NAME = "bptt_train_live"
HTML = """
<div class="bptt-live" data-testid="trainLive">
  <div class="counters" data-testid="trainLiveCounters">
    <div class="counter" data-counter="updates">
      <div class="label"></div><div class="value"></div><div class="delta"></div>
    </div>
    <div class="counter" data-counter="loss">
      <div class="label"></div><div class="value"></div><div class="delta"></div>
    </div>
    <div class="counter" data-counter="chance">
      <div class="label"></div><div class="value"></div><div class="delta"></div>
    </div>
    <div class="counter" data-counter="speed">
      <div class="label"></div><div class="value"></div><div class="delta"></div>
    </div>
  </div>
  <div class="charts">
    <figure data-chart="loss">
      <h3>Loss</h3>
      <div class="plot"><canvas role="img" aria-label="loss per update"></canvas>
        <div class="tip" hidden></div></div>
      <div class="legend"></div>
      <label class="toggle"><input type="checkbox" class="log" checked> logarithmic axis</label>
      <p class="dropped"></p>
    </figure>
    <figure data-chart="grad">
      <h3>Gradient norm</h3>
      <div class="plot"><canvas role="img" aria-label="gradient norm per update"></canvas>
        <div class="tip" hidden></div></div>
      <div class="legend"></div>
    </figure>
  </div>
</div>
"""

_mount = st.components.v2.component(
    NAME,
    html=HTML,
    css=(HERE / "live_panel.css").read_text(encoding="utf-8"),
    js=(HERE / "live_panel.js").read_text(encoding="utf-8"),
)


def render_live_panel(data: dict, on_resync: Callable[[], None], key: str = "train_live") -> None:
    """Mount the panel with ``data``; ``on_resync`` runs when the browser asks for the whole
    history again (it missed a batch)."""
    _mount(data=data, key=key, on_resync_change=on_resync)
