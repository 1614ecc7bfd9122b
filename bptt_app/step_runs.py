"""The networks the step page steps through: the session's RNN (tied), or untied copies.

Both answer the same questions: which pass comes next (recorded on a fork, so nothing changes
until the student moves on), how to show it, and how to move on (another update, ten, a hundred,
to trained, back to update 0). The tied run is the session's one network, shared with Train live
(``bptt_app.train_session``); the untied run lives beside it in the session.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping

import numpy as np

from bptt_app.settings import Settings
from bptt_app.train_session import TrainSession
from bptt_core.records import OnlinePassRecord, PassRecord
from bptt_core.trainer import TrainingConfig
from bptt_core.untied import UntiedPassRecord, UntiedTrainer, copy_params
from bptt_viz.figures.slides import network_words, settings_line, training_words
from bptt_viz.labels import display_char
from bptt_viz.notation import get_notation
from bptt_viz.player.online import OnlineInput
from bptt_viz.player.payload import PassInput
from bptt_viz.player.untied import UntiedInput
from bptt_viz.player.update import UpdateInput

TRAINED_PER_CHAR = 0.05  # "trained": the loss per character of "hello" the Trainer reaches
TRAINED_CAP = 2000  # … or at most this many updates
JUMPS = {"+1": 1, "+10": 10, "+100": 100}
LINK_BUDGET_S = 3.0  # CPU seconds a link's ?update= may spend training the network again
UNTIED_KEY = "_untied_run"  # session: the untied run


def settings_caption(text: str, s: TrainingConfig) -> str:
    """The settings a drawing was made with, in one line (under downloaded drawings)."""
    return settings_line(text, network_words(s), training_words(s))


def pass_heading(update: int, T: int, chunk_start: int, text_length: int, what: str) -> str:
    """“Pass 4 of training: the network after 3 updates” (and which chunk, for long texts)."""
    after = (
        f"the initial {what}"
        if update == 0
        else f"the {what} after {update:,} update{'s' * (update != 1)}"
    )
    where = ""
    if T < text_length - 1:
        where = f", characters {chunk_start + 1}–{chunk_start + T + 1} of {text_length:,}"
    return f"Pass {update + 1:,} of training: {after}{where}"


class TiedRun:
    """The session's RNN, trained by Train live and stepped through here."""

    def __init__(self, sess: TrainSession) -> None:
        self.sess = sess

    @property
    def updates(self) -> int:
        return self.sess.trainer.updates

    def key(self, updates: int | None = None) -> tuple:
        """What fixes the pass shown (the network and the update it is at)."""
        s, tr = self.sess, self.sess.trainer
        at = self.updates if updates is None else updates
        return ("tied", id(tr), s.epoch, s.uploads, tr.settings, at)

    def records(self, count: int) -> list[PassRecord]:
        """The next ``count`` passes, recorded on a fork."""
        twin, out = self.sess.trainer.fork(), []
        with np.errstate(all="ignore"):
            for _ in range(count):
                result = twin.step(record=True)
                out.append(result.record)
                if result.diverged:
                    break
        return out  # type: ignore[return-value]

    def pass_input(
        self, record: PassRecord | OnlinePassRecord, notation: str
    ) -> PassInput | OnlineInput:
        if isinstance(record, OnlinePassRecord):
            return self._online_input(record, notation)
        tr = self.sess.trainer
        s, corpus, T = tr.settings, tr.corpus, record.fwd.T
        update = None
        if record.applied is not None:
            truncated = s.truncation is not None and s.truncation < T
            update = UpdateInput(
                record=record.applied,
                optimizer=s.optimizer,
                learning_rate=s.learning_rate,
                clip=s.clip,
                clip_threshold=s.clip_threshold,
                loss=record.fwd.loss,
                loss_after=record.loss_after,
                updates_before=record.update,
                truncation=s.truncation if truncated else None,
            )
        text = corpus.text[record.chunk_start : record.chunk_start + T + 1]
        return PassInput(
            notation=get_notation(notation),
            config=tr.config,
            params=record.params,
            fwd=record.fwd,
            bwd=record.bwd,
            vocab=corpus.vocab,
            input_chars=tuple(text[:-1]),
            target_chars=tuple(text[1:]),
            update=update,
            heading=pass_heading(record.update, T, record.chunk_start, len(corpus.text), "network"),
            caption=settings_caption(corpus.text, s),
        )

    def _online_input(self, record: OnlinePassRecord, notation: str) -> OnlineInput:
        tr = self.sess.trainer
        s, corpus, T = tr.settings, tr.corpus, record.T
        text = corpus.text[record.chunk_start : record.chunk_start + T + 1]
        shown = lambda chars: tuple(display_char(c) for c in chars)  # noqa: E731
        heading = pass_heading(record.update, T, record.chunk_start, len(corpus.text), "network")
        return OnlineInput(
            notation=get_notation(notation),
            config=tr.config,
            record=record,
            vocab=shown(corpus.vocab),
            inputs=shown(text[:-1]),
            targets=shown(text[1:]),
            optimizer=s.optimizer,
            learning_rate=s.learning_rate,
            clip=s.clip,
            clip_threshold=s.clip_threshold,
            heading=f"{heading} (online: one update per timestep)",
        )

    def go(self, action: str) -> None:
        """Make the updates a jump asks for, on the shared network."""
        if action == "zero":
            self.sess.reset()
        elif action == "trained":
            self._train_until_trained()
        elif action in JUMPS:
            self.sess.train(JUMPS[action])

    def reset_to(self, updates: int) -> None:
        """Train again from the seed to ``updates`` (within LINK_BUDGET_S of CPU time)."""
        self.sess.reset()
        self.sess.train(updates, budget_s=LINK_BUDGET_S)

    def _train_until_trained(self) -> None:
        """Updates until the next pass's loss per character is under TRAINED_PER_CHAR."""
        tr = self.sess.trainer
        for _ in range(TRAINED_CAP):
            with np.errstate(all="ignore"):
                result = tr.step(record=True)
            if result.diverged or result.record is None:
                break
            after = getattr(result.record, "loss_after", result.loss)  # online: the pass's loss
            if after / result.chunk_length < TRAINED_PER_CHAR:
                break
        self.sess.last = None


class UntiedRun:
    """Untied copies of the sidebar's network, trained here only (plain gradient steps)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings.training()
        self.text = settings.text
        self.trainer = self._fresh()

    def _fresh(self) -> UntiedTrainer:
        s = self.settings
        return UntiedTrainer(
            self.text,
            **{k: getattr(s, k) for k in ("hidden_size", "activation", "output", "loss")},
            **{k: getattr(s, k) for k in ("init", "init_scale", "spectral_radius", "seed")},
            initial_weights=s.initial_weights,
            learning_rate=s.learning_rate,
            truncation=s.truncation,
        )

    @property
    def updates(self) -> int:
        return self.trainer.updates

    def key(self, updates: int | None = None) -> tuple:
        return ("untied", id(self), self.updates if updates is None else updates)

    def records(self, count: int) -> list[UntiedPassRecord]:
        twin = self.trainer.fork()
        return [twin.step() for _ in range(count)]

    def pass_input(self, record: UntiedPassRecord, notation: str) -> PassInput:
        tr = self.trainer
        corpus = tr.corpus
        return PassInput(
            notation=get_notation(notation),
            config=tr.config,
            params=copy_params(record.before, 1),
            fwd=record.fwd,
            bwd=record.bwd,
            vocab=corpus.vocab,
            input_chars=corpus.input_chars,
            target_chars=corpus.target_chars,
            untied=UntiedInput(record, self.settings.learning_rate),
            heading=pass_heading(record.update, corpus.T, 0, len(corpus.text), "untied copies"),
            caption=settings_caption(corpus.text, tr.settings) + " · untied",
        )

    def go(self, action: str) -> None:
        if action == "zero":
            self.trainer = self._fresh()
        elif action == "trained":
            for _ in range(TRAINED_CAP):
                record = self.trainer.step()
                if record.loss_after / record.fwd.T < TRAINED_PER_CHAR:
                    break
        elif action in JUMPS:
            self.trainer.train(JUMPS[action])

    def reset_to(self, updates: int) -> None:
        """Train again from the seed to ``updates`` (within LINK_BUDGET_S of CPU time)."""
        self.trainer = self._fresh()
        deadline = time.thread_time() + LINK_BUDGET_S
        while self.trainer.updates < updates and time.thread_time() < deadline:
            self.trainer.train(min(50, updates - self.trainer.updates))


def untied_run(state: MutableMapping, settings: Settings) -> tuple[UntiedRun, bool]:
    """The session's untied run for these settings, and whether it was started again now."""
    run = state.get(UNTIED_KEY)
    same = (
        isinstance(run, UntiedRun)
        and run.text == settings.text
        and run.settings == settings.training()
    )
    if not same:
        run = UntiedRun(settings)
        state[UNTIED_KEY] = run
    return run, not same  # type: ignore[return-value]
