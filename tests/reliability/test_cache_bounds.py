"""Server caches bounded in bytes, not only in entries (issue 15).

Every ``st.cache_data`` of the process shares one byte budget (``server.maxCacheDataSize`` in
``.streamlit/config.toml``: serialised bytes, least recently used entries evicted first), on
top of each function's ``max_entries``. The one ``st.cache_resource`` with arguments,
``bptt_app.analysis.page_network``, is bounded by its entries times its largest entry, which the
sidebar's limits bound (H ≤ 128, T ≤ 80 on the Truncation page, at most 81 distinct
characters). Measured here at those limits.
"""

from __future__ import annotations

import pickle
import tomllib

import pytest
from streamlit.byte_util import config_max_cache_data_size_to_bytes

from bptt_app import analysis
from bptt_app.settings import FLOW_MAX_T, MAX_HIDDEN
from bptt_core.trainer import TrainingConfig
from tests.reliability._support import REPO_ROOT

MiB = 2**20
WORST_TEXT = "".join(chr(0x391 + i) for i in range(FLOW_MAX_T + 1))  # 81 distinct characters


def budget_bytes() -> int:
    config = tomllib.loads((REPO_ROOT / ".streamlit" / "config.toml").read_text())
    return config_max_cache_data_size_to_bytes(config["server"]["maxCacheDataSize"])


def size(value: object) -> int:
    return len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def test_the_data_cache_budget_is_64_mib():
    assert budget_bytes() == 64 * MiB


@pytest.mark.slow
def test_largest_entries_fit_the_budgets_many_times():
    architecture = TrainingConfig(hidden_size=MAX_HIDDEN).architecture()
    text, _ = analysis.analysed_text(WORST_TEXT)
    assert len(set(text)) == 81 and len(text) - 1 == FLOW_MAX_T
    flow = analysis.flow_analysis(text, architecture, 3.0)
    steps = analysis.jacobian_steps(flow.T, MAX_HIDDEN)
    entries = {
        "flow": size(flow),
        "jacobian": size(analysis.jacobian_analysis(text, architecture, 3.0, steps)),
        "clipping": size(analysis.clipping_analysis(text, architecture, 3.0, 5.0)),
    }
    # one network's three analyses, many times over in the shared byte budget
    assert sum(entries.values()) * 30 <= budget_bytes(), entries
    network = size(analysis.build_page_network(text, architecture, 3.0))
    assert network * analysis.CACHE_ENTRIES <= 32 * MiB, f"page_network: {network} bytes each"
