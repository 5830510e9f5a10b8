"""The way into the feedback form from every kiosk screen.

``install(app)`` adds a button to the kiosk's bottom toolbar ("Góp ý", "ສະແດງຄຳເຫັນ",
"Feedback", in the language on screen; the toolbar is under every browse screen).
A tap opens ``FeedbackForm`` over the screens, below the alert overlay (an alert
still covers everything), in the traveller's language, offering the site's
categories as what the feedback is about, and the page being read chosen at first,
in the kiosk's colours (its high-contrast palette when that is on).
When the form is done (sent and thanked, or cancelled) home is shown. When the
kiosk falls idle the attract loop starts and an open form is thrown away unsent:
the next traveller never sees what the last one typed.
"""

from __future__ import annotations

from typing import Any

from .feedback import FeedbackForm
from .feedback_model import words
from .keyboard import NORMAL
from .presenter import localize


class FeedbackEntry:
    """The toolbar button and the open form, if any."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.form: FeedbackForm | None = None
        self.button = app.add_toolbar_button(words(app.browser.language)["button"], self.open)
        self.button.action = "feedback"
        app.bind(on_screen=self._on_screen, on_attract=self._on_attract)

    def _on_screen(self, _app: Any, view: Any) -> None:
        self.button.text = words(view.language)["button"]

    def _on_attract(self, _app: Any, active: bool) -> None:
        if active:
            self.close()

    def choices(self) -> tuple[list[tuple[str, str]], str | None]:
        """The pages to choose from (the page being read, then the categories) and the one
        chosen at first."""
        browser = self.app.browser
        lang = browser.language
        out = [(c["id"], localize(c, lang).title) for c in browser.tree.categories]
        current = browser.page_id or browser.category_id
        if browser.page_id is not None:
            page = browser.tree.by_id[browser.page_id]
            out.insert(0, (page["id"], localize(page, lang).title))
        return out, current

    def open(self) -> None:
        root = self.app.root_widget
        if root is None or self.form is not None:
            return
        pages, current = self.choices()
        self.form = FeedbackForm(
            self.app.runtime,
            self.app.browser.language,
            pages,
            now=self.app.now,
            selected_page=current,
            palette={name: getattr(self.app, name) for name in NORMAL if hasattr(self.app, name)},
            on_done=self._done,
        )
        root.add_widget(self.form, index=1)  # under the alert overlay, over everything else

    def close(self) -> None:
        form, self.form = self.form, None
        if form is not None:
            form.discard()
            if form.parent is not None:
                form.parent.remove_widget(form)

    def _done(self) -> None:
        self.close()
        self.app.show(self.app.browser.home())


def install(app: Any) -> FeedbackEntry:
    """Call from the kiosk app's ``on_start`` (the toolbar exists then)."""
    return FeedbackEntry(app)


__all__ = ["FeedbackEntry", "install"]
