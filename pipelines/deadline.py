"""A total deadline for a whole network conversation.

Socket timeouts bound each read, not the conversation: a server that sends one `220-`
line a second, or drips a body byte by byte, never trips them. `within` runs the
conversation in a helper thread and gives up at the deadline, calling `abort` (which
closes the socket, so the helper stops too) and raising `DeadlineExceeded`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable


class DeadlineExceeded(Exception):
    """The conversation did not finish in time (message in French)."""


def within(seconds: float, work: Callable[[], object], what: str, abort: Callable[[], None] | None = None):
    """`work()`'s result, or DeadlineExceeded once `seconds` have passed."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed back to the caller's thread
            outcome["error"] = exc

    helper = threading.Thread(target=run, name=f"vigie-deadline-{what}", daemon=True)
    helper.start()
    helper.join(seconds)
    if helper.is_alive():
        if abort is not None:
            with contextlib.suppress(Exception):  # best effort: the socket may already be gone
                abort()
        helper.join(1.0)
        raise DeadlineExceeded(f"{what} : échange non terminé après {seconds:g} s, abandonné")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
