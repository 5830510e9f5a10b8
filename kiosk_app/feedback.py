"""The kiosk's feedback form: rating 1–5, an optional page it is about, an optional
comment typed on the on-screen keyboard; send → thank you → back home.

The form is a full-screen widget in the kiosk's current language
(``feedback_model.words``). Sending queues one record through the device
runtime (``runtime.record("feedback", now, rating=…, language=…, page_id=…,
comment=…)``): written to the record queue on disk before the thank-you shows,
sent by the runtime's worker when the server can be reached, deleted only after
the server acknowledged it; the record's uuid makes a resend harmless, so it
arrives exactly once even after days offline. ``runtime.sync_now()`` (if the
runtime has it) wakes the worker so a connected kiosk sends at once.

No personal data is asked for (a line says not to write any), and nothing typed
is logged: the log says only that a feedback was queued, with its rating.
``on_done`` is called after the thank-you (or on cancel): the app shows home.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle
from kivy.metrics import mm
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.scrollview import ScrollView

from signage_player.richtext import RichText

from .feedback_model import MAX_COMMENT, FeedbackDraft, Typist, layout_for, words
from .keyboard import KEY_MIN_MM, NORMAL, OnScreenKeyboard, Tap

log = logging.getLogger(__name__)

WARN = (1.0, 0.72, 0.45, 1)
SEND = (0.16, 0.55, 0.31, 1)
THANKS_S = 4.0


class FeedbackForm(BoxLayout):
    """The form; ``pages`` are ``(page id, title in the current language)`` to choose from,
    ``selected_page`` the one chosen at first (the page the traveller was reading)."""

    language = StringProperty("vi")
    state = StringProperty("form")  # "form", then "thanks"
    sent_id = StringProperty("")
    rating = NumericProperty(0)
    warned = BooleanProperty(False)

    def __init__(
        self,
        runtime: Any,
        language: str,
        pages: Sequence[tuple[str, str]] = (),
        *,
        now: Callable[[], datetime],
        selected_page: str | None = None,
        palette: Mapping[str, Any] | None = None,
        on_done: Callable[[], None] = lambda: None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("orientation", "vertical")
        super().__init__(**kwargs)
        self.runtime = runtime
        self.language = language
        self.pages = list(pages)
        self.now = now
        self.on_done = on_done
        self.palette = {**NORMAL, **(palette or {})}
        self.draft = FeedbackDraft(language)
        if selected_page is not None and any(p == selected_page for p, _ in self.pages):
            self.draft.page_id = selected_page
        self.words = words(language)
        self.typist = Typist(layout=layout_for(language), limit=MAX_COMMENT)
        with self.canvas.before:
            Color(*self.palette["bg"])
            self._bg = Rectangle()
        self.bind(pos=self._paint_bg, size=self._paint_bg, size_hint=self._paint_bg)
        self._thanks_event: Any = None
        self._build()

    def _paint_bg(self, *_: Any) -> None:
        self._bg.pos, self._bg.size = self.pos, self.size

    # -- building ------------------------------------------------------------------------

    def _build(self) -> None:
        w = self.words
        self.padding = (mm(4), mm(2))
        self.spacing = mm(1.5)
        self.title = RichText(
            text=w["title"],
            font_size=40,
            bold=True,
            fit=True,
            wrap=False,
            size_hint_y=0.07,
            valign="middle",
        )
        self.add_widget(self.title)
        self.add_widget(self._caption(w["rating"], 26, size_hint_y=0.045))
        stars = BoxLayout(orientation="horizontal", spacing=mm(2), size_hint_y=0.12)
        self.rating_buttons: list[Tap] = []
        for n in range(1, 6):
            tap = Tap(text=f"{'★' * n}\n{n} · {w[f'r{n}']}", action=f"rate:{n}", font_size=26)
            tap.style(self.palette)
            tap.bind(on_release=self._rate)
            stars.add_widget(tap)
            self.rating_buttons.append(tap)
        self.add_widget(stars)

        self.add_widget(self._caption(w["about"], 22, size_hint_y=0.04))
        scroller = ScrollView(size_hint_y=0.075, do_scroll_y=False, bar_width=mm(1))
        chips = BoxLayout(orientation="horizontal", spacing=mm(1.5), size_hint_x=None)
        chips.bind(minimum_width=chips.setter("width"))
        self.page_buttons: list[Tap] = []
        for page_id, title in [("", w["general"]), *self.pages]:
            tap = Tap(text=title, action=f"page:{page_id}", font_size=22, size_hint_x=None)
            tap.style(self.palette)
            tap.width = max(mm(28), min(mm(80), 28 + 15 * len(title)))
            tap.selected = page_id == (self.draft.page_id or "")
            tap.bind(on_release=self._choose_page)
            chips.add_widget(tap)
            self.page_buttons.append(tap)
        scroller.add_widget(chips)
        self.add_widget(scroller)

        head = BoxLayout(orientation="horizontal", size_hint_y=0.04)
        head.add_widget(self._caption(w["comment"], 22))
        self.counter = self._caption(f"0/{MAX_COMMENT}", 22, halign="right", size_hint_x=0.3)
        head.add_widget(self.counter)
        self.add_widget(head)
        box = BoxLayout(size_hint_y=0.1, padding=(mm(2), mm(1)))
        with box.canvas.before:
            Color(*self.palette["surface"])
            self._box_rect = Rectangle()
            Color(*self.palette["border"])  # seen in high contrast, where the box is black
            self._box_line = Line(width=1.5)
        box.bind(pos=self._paint_box, size=self._paint_box)
        self.comment_view = RichText(text="", font_size=26, fit=True, valign="top")
        box.add_widget(self.comment_view)
        self.add_widget(box)
        self.note = self._caption(w["privacy"], 20, size_hint_y=0.035)
        self.add_widget(self.note)

        self.keyboard = OnScreenKeyboard(self.typist, self.palette, size_hint_y=0.38)
        self.keyboard.bind(text=self._typed, refused=self._typed)
        self.add_widget(self.keyboard)

        actions = BoxLayout(orientation="horizontal", spacing=mm(3), size_hint_y=0.08)
        self.cancel_button = Tap(text=w["cancel"], action="cancel", font_size=28)
        self.cancel_button.style(self.palette)
        self.cancel_button.bind(on_release=lambda *_: self.finish())
        self.send_button = Tap(text=w["send"], action="send", font_size=30, bold=True, face=SEND)
        self.send_button.edge = self.palette["border"]
        self.send_button.bind(on_release=lambda *_: self.send())
        actions.add_widget(self.cancel_button)
        actions.add_widget(self.send_button)
        self.add_widget(actions)
        self.min_key = mm(KEY_MIN_MM)

    def _caption(self, text: str, font_size: float, **layout: Any) -> RichText:
        """A dim line of the form (a field's label, the counter, the note under the box),
        shrunk to fit its height."""
        return RichText(
            text=text,
            font_size=font_size,
            fit=True,
            wrap=False,
            color=self.palette["dim"],
            valign="middle",
            **layout,
        )

    def _paint_box(self, box: Any, *_: Any) -> None:
        self._box_rect.pos, self._box_rect.size = box.pos, box.size
        self._box_line.rectangle = (box.x, box.y, box.width, box.height)

    # -- what the traveller does ------------------------------------------------------

    def _rate(self, tap: Tap) -> None:
        self.rating = int(tap.action.split(":")[1])
        self.draft.rating = self.rating
        for b in self.rating_buttons:
            b.selected = b is tap
        if self.warned:
            self.warned = False
            self.note.text = self.words["privacy"]
            self.note.color = self.palette["dim"]

    def _choose_page(self, tap: Tap) -> None:
        self.draft.page_id = tap.action.split(":", 1)[1] or None
        for b in self.page_buttons:
            b.selected = b is tap

    def _typed(self, *_: Any) -> None:
        text = self.keyboard.text
        self.draft.comment = text
        self.comment_view.text = text + "|"
        self.counter.text = f"{len(text)}/{MAX_COMMENT}"
        self.counter.color = WARN if self.keyboard.refused else self.palette["dim"]
        if self.keyboard.refused:
            self.note.text = self.words["full"]

    def send(self) -> str | None:
        """Queue the feedback and thank the traveller; without a rating, ask for one."""
        if self.state != "form":
            return None
        if not self.draft.ready():
            self.warned = True
            self.note.text = self.words["need_rating"]
            self.note.color = WARN
            return None
        fields = self.draft.fields()
        record_id = self.runtime.record("feedback", self.now(), **fields)
        if record_id is None:  # the queue is broken; the runtime logged why. Keep the form.
            self.note.text = self.words["failed"]
            self.note.color = WARN
            return None
        log.info("feedback %s queued (rating %d)", record_id, fields["rating"])
        wake = getattr(self.runtime, "sync_now", None)
        if callable(wake):
            wake()
        self.sent_id = record_id
        self._show_thanks()
        return str(record_id)

    def _show_thanks(self) -> None:
        self.state = "thanks"
        self.clear_widgets()
        self.padding = (mm(8), mm(8))
        self.add_widget(
            RichText(
                text="★★★★★"[: self.rating] or "★",
                font_size=72,
                fit=True,
                halign="center",
                valign="bottom",
                size_hint_y=0.3,
                color=(0.95, 0.79, 0.30, 1),
            )
        )
        self.add_widget(
            RichText(
                text=self.words["thanks"],
                font_size=56,
                bold=True,
                fit=True,
                halign="center",
                valign="middle",
                size_hint_y=0.3,
            )
        )
        self.add_widget(
            RichText(
                text=self.words["thanks_more"],
                font_size=32,
                fit=True,
                halign="center",
                valign="top",
                size_hint_y=0.4,
                color=self.palette["dim"],
            )
        )
        self._thanks_event = Clock.schedule_once(lambda _dt: self.finish(), THANKS_S)

    def discard(self) -> None:
        """Thrown away (the kiosk fell idle): no thank-you timer, no ``on_done``."""
        if self._thanks_event is not None:
            self._thanks_event.cancel()
            self._thanks_event = None

    def finish(self) -> None:
        self.discard()
        self.on_done()


__all__ = ["FeedbackForm"]
