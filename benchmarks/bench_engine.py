"""Engine benchmark: one BPTT pass at min-char-rnn's size against PyTorch autograd, training
"hello" with the default Trainer, and Trainer updates per second.

Run from the repository root::

    python benchmarks/bench_engine.py

Everything runs on one thread (BLAS and PyTorch), float64. The PyTorch comparison does the same
work with the same weights in the same process, and the gradients are checked to agree to 1e-10
before anything is timed. PyTorch is optional (``pip install -e .[bench]``): without it the
engine figures are still reported. Results go to ``benchmarks/results/engine.json``; a Markdown
table for the README is printed. The exit status is 1 if a quality bar is missed.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy (and PyTorch) are imported

import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bptt_core import RNNConfig, Trainer, backward, forward, init_params  # noqa: E402
from bptt_core.backward import backward_unchecked  # noqa: E402
from bptt_core.model import forward_unchecked  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
    TORCH_ERROR = ""
except ImportError as exc:  # torch is an optional extra
    torch = None
    TORCH_ERROR = str(exc)

RESULTS = ROOT / "benchmarks" / "results" / "engine.json"
COMMAND = "python benchmarks/bench_engine.py"

# min-char-rnn's size
H, V, T = 100, 65, 25
# quality bars (DESIGN §6 and the engine issue)
MIN_TORCH_RATIO = 3.0
MAX_PASS_MS = 1.0
MIN_UPDATES_PER_S = 1000.0
HELLO_TARGET = 0.05  # nats per character
HELLO_MAX_UPDATES = 100


def timed(fn: Callable[[], object], repeats: int, warmup: int) -> list[float]:
    """Wall time of each call in seconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def summary(times: list[float]) -> dict[str, float]:
    q = np.quantile(times, [0.1, 0.5, 0.9])
    return {
        "median_ms": float(q[1] * 1e3),
        "p10_ms": float(q[0] * 1e3),
        "p90_ms": float(q[2] * 1e3),
        "repeats": len(times),
    }


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cpus": os.cpu_count(),
        "threads_used": 1,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


# ----------------------------------------------------------------------------- one BPTT pass


def make_problem(seed: int = 0):
    cfg = RNNConfig(V, H, V, activation="tanh", output="softmax", loss="cross_entropy")
    params = init_params(cfg, seed=seed, scheme="scale", scale=0.01)  # min-char-rnn's init
    rng = np.random.default_rng(seed)
    p = params.map(lambda a: a + rng.normal(size=a.shape) * 0.05)  # nonzero biases, less tiny
    ids = rng.integers(0, V, size=T + 1)
    eye = np.eye(V)
    return cfg, p, eye[ids[:-1]], eye[ids[1:]], ids


def torch_pass_factory(p, x: np.ndarray, ids: np.ndarray):
    """The same network in PyTorch: input projections in one matmul, the recurrence as a loop,
    the outputs in one matmul, summed cross-entropy, autograd backward."""
    tp = {
        n: torch.tensor(getattr(p, n), dtype=torch.float64, requires_grad=True)
        for n in ("W_xh", "W_hh", "W_hy", "b_h", "b_y")
    }
    xt = torch.tensor(x, dtype=torch.float64)
    targets = torch.tensor(ids[1:], dtype=torch.long)
    h0 = torch.zeros(H, dtype=torch.float64)

    def run():
        for v in tp.values():
            v.grad = None
        a_in = xt @ tp["W_xh"].T + tp["b_h"]
        h, hs = h0, []
        for t in range(T):
            h = torch.tanh(a_in[t] + tp["W_hh"] @ h)
            hs.append(h)
        o = torch.stack(hs) @ tp["W_hy"].T + tp["b_y"]
        loss = torch.nn.functional.cross_entropy(o, targets, reduction="sum")
        loss.backward()
        return loss

    return tp, run


def bench_pass(repeats: int) -> dict[str, object]:
    cfg, p, x, d, ids = make_problem()
    h0 = np.zeros(H)

    def engine_public():
        return backward(p, cfg, forward(p, cfg, x, d)).grads

    def engine_unchecked():
        return backward_unchecked(p, cfg, forward_unchecked(p, cfg, x, d, h0), None).grads

    grads = engine_public()
    loss = forward(p, cfg, x, d).loss
    out: dict[str, object] = {
        "size": {"H": H, "V": V, "T": T, "dtype": "float64", "activation": "tanh", "loss": "sum"},
    }
    out["engine_public"] = summary(timed(engine_public, repeats, repeats // 10))
    out["engine_unchecked"] = summary(timed(engine_unchecked, repeats, repeats // 10))
    if torch is None:
        out["torch"] = None
        out["torch_missing"] = TORCH_ERROR
        return out
    tp, run = torch_pass_factory(p, x, ids)
    t_loss = float(run().detach())
    worst = 0.0
    for n in ("W_xh", "W_hh", "W_hy", "b_h", "b_y"):
        ours, theirs = getattr(grads, n), tp[n].grad.numpy()
        worst = max(worst, float(np.abs(ours - theirs).max() / np.abs(theirs).max()))
    assert abs(t_loss - loss) <= 1e-10 * abs(loss), f"losses differ: {t_loss} vs {loss}"
    assert worst <= 1e-10, f"gradients differ from PyTorch by {worst:.2e} (relative)"
    out["agreement"] = {"max_relative_gradient_difference": worst, "loss": loss}
    torch_repeats = max(repeats // 4, 50)
    out["torch"] = summary(timed(run, torch_repeats, torch_repeats // 10))
    tm = out["torch"]["median_ms"]
    out["ratio_torch_over_engine_public"] = tm / out["engine_public"]["median_ms"]
    out["ratio_torch_over_engine_unchecked"] = tm / out["engine_unchecked"]["median_ms"]
    return out


# ----------------------------------------------------------------------------- training


def bench_hello(seeds: range) -> dict[str, object]:
    """Wall time of training "hello" with the default Trainer until a pass has mean loss
    < 0.05 nats/char (the loss of the pass before its update), per seed."""
    rows = []
    for seed in seeds:
        t0 = time.perf_counter()
        tr = Trainer("hello", seed=seed)
        updates = None
        for i in range(1, 10 * HELLO_MAX_UPDATES + 1):
            r = tr.step()
            if r.loss / tr.corpus.T < HELLO_TARGET:
                updates = i
                break
        rows.append({"seed": seed, "updates": updates, "seconds": time.perf_counter() - t0})
    secs = [r["seconds"] for r in rows]
    ups = [r["updates"] for r in rows if r["updates"] is not None]
    return {
        "target_nats_per_char": HELLO_TARGET,
        "seeds": f"{seeds.start}..{seeds.stop - 1}",
        "median_ms": statistics.median(secs) * 1e3,
        "worst_ms": max(secs) * 1e3,
        "median_updates": statistics.median(ups) if ups else None,
        "worst_updates": max(ups) if len(ups) == len(rows) else None,
        "per_seed": rows,
    }


def bench_updates_per_second(blocks: int, per_block: int) -> dict[str, object]:
    """``Trainer.step()`` rate on "hello" at defaults: the median over blocks of steps (robust
    against a busy machine), and the best block."""
    tr = Trainer("hello")
    tr.train(200)  # warm-up; the loss is small by now, as in play mode after a while
    rates = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(per_block):
            tr.step()
        rates.append(per_block / (time.perf_counter() - t0))
    return {
        "blocks": blocks,
        "updates_per_block": per_block,
        "updates_per_second": statistics.median(rates),
        "best_updates_per_second": max(rates),
    }


# ----------------------------------------------------------------------------- report


def markdown(res: dict[str, object]) -> str:
    p = res["pass"]
    lines = [
        f"One BPTT pass (forward + backward + gradients), H = {H}, vocabulary {V}, T = {T}, "
        "float64, one thread; median of repeats:",
        "",
        "| measurement | median | note |",
        "|---|---|---|",
        f"| engine, public `forward` + `backward` | {p['engine_public']['median_ms']:.3f} ms | validated inputs |",
        f"| engine, inner path (as the Trainer) | {p['engine_unchecked']['median_ms']:.3f} ms | `forward_unchecked` + `backward_unchecked` |",
    ]
    if p.get("torch"):
        lines += [
            f"| PyTorch {res['machine']['torch']} autograd, same work | {p['torch']['median_ms']:.3f} ms | gradients agree to {p['agreement']['max_relative_gradient_difference']:.0e} |",
            f"| speed-up over PyTorch | {p['ratio_torch_over_engine_public']:.1f}× (public), {p['ratio_torch_over_engine_unchecked']:.1f}× (inner) | bar ≥ {MIN_TORCH_RATIO}× |",
        ]
    else:
        lines.append(f"| PyTorch | not installed | {p.get('torch_missing', '')} |")
    h, u = res["hello"], res["updates"]
    lines += [
        f'| train "hello" to < {HELLO_TARGET} nats/char (default Trainer) | {h["median_ms"]:.1f} ms (worst {h["worst_ms"]:.1f} ms) | seeds {h["seeds"]}, median {h["median_updates"]} updates, worst {h["worst_updates"]} |',
        f'| `Trainer.step()` on "hello", defaults | {u["updates_per_second"]:,.0f} updates/s | bar ≥ {MIN_UPDATES_PER_S:,.0f}/s |',
        "",
        f"Machine: {res['machine']['cpu']}, Python {res['machine']['python']}, NumPy "
        f"{res['machine']['numpy']}; {res['machine']['date']}. Command: `{COMMAND}`",
    ]
    return "\n".join(lines)


def main() -> int:
    res: dict[str, object] = {"command": COMMAND, "machine": machine()}
    res["pass"] = bench_pass(repeats=2000)
    res["hello"] = bench_hello(range(20))
    res["updates"] = bench_updates_per_second(blocks=15, per_block=200)
    p = res["pass"]
    checks = {
        f"engine pass < {MAX_PASS_MS} ms": p["engine_public"]["median_ms"] < MAX_PASS_MS,
        f"updates/s ≥ {MIN_UPDATES_PER_S:.0f}": res["updates"]["updates_per_second"]
        >= MIN_UPDATES_PER_S,
        f'"hello" learned within {HELLO_MAX_UPDATES} updates for every seed': (
            res["hello"]["worst_updates"] is not None
            and res["hello"]["worst_updates"] <= HELLO_MAX_UPDATES
        ),
    }
    if p.get("torch"):
        checks[f"torch/engine ≥ {MIN_TORCH_RATIO}"] = (
            p["ratio_torch_over_engine_public"] >= MIN_TORCH_RATIO
        )
    res["checks"] = checks
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
    print(markdown(res))
    print()
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    if torch is None:
        print(f"PyTorch is not installed ({TORCH_ERROR}); engine figures only.")
    print(f"Results written to {RESULTS.relative_to(ROOT)}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
