"""What a reader sees of server-rendered HTML, for tests that assert on words
rather than markup (a diff's old and new values are separate elements)."""

from __future__ import annotations

import html
import re

__all__ = ["plain"]


def plain(fragment: str) -> str:
    """``fragment``'s text: tags dropped, entities decoded, spaces collapsed.

    Decorative elements hidden from assistive technology (``aria-hidden``,
    such as an avatar's initials) are left out, as a screen reader would.
    """
    fragment = re.sub(
        r'<(span|svg)\b[^>]*aria-hidden="true"[^>]*>.*?</\1>', " ", fragment, flags=re.S
    )
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", fragment).split()))
