"""The one place the Gradio face turns a library error into what the page shows."""

from __future__ import annotations

import re

import gradio as gr

from milady_integrations import MiladyError

__all__ = ["to_gradio_error"]


def _title_for(err: BaseException) -> str:
    # Derived from the class name (InsufficientCreditsError -> "Insufficient credits"),
    # so the face adds no wording of its own.
    name = type(err).__name__.removeprefix("Milady").removesuffix("Error") or "Error"
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[:1].upper() + text[1:]


def to_gradio_error(err: BaseException) -> gr.Error:
    """A ``gr.Error`` whose body is ``str(err)``, the line the core wrote for people.

    Gradio 6 toasts head every error with "Error" and show the message below it,
    so the whole text goes in ``message``; ``title`` names the kind of failure.
    """
    if isinstance(err, gr.Error):
        return err
    message = str(err) if isinstance(err, MiladyError) else (str(err) or type(err).__name__)
    return gr.Error(message=message, title=_title_for(err), duration=None, print_exception=False)
