"""Escaping for the ``<img>`` markup of ``display.py``: attribute names, URLs, CSS strings.

Django's ``escape`` makes any text safe inside a quoted HTML attribute; it
does not make a URL harmless (``javascript:``) or a string safe inside CSS.
These helpers cover those two contexts; the attribute escaping stays Django's.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.utils.safestring import SafeString

#: An HTML attribute name a template may pass (``data_id`` arrives as ``data_id``).
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_:.-]*\Z")
#: What browsers strip from both ends of a URL before they read its scheme.
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))
#: Characters left alone inside a CSS string: everything else becomes ``\HEX ``.
_CSS_PLAIN = re.compile(r"[^A-Za-z0-9+/=:;,._-]")
_SAFE_SCHEMES = frozenset({"http", "https", ""})


def attribute_name(name: str) -> str:
    """``data_id`` → ``data-id``; refuse anything that is not an attribute name."""
    html_name = name.replace("_", "-")
    if not _ATTRIBUTE_NAME.match(html_name):
        raise ValueError(f"{name!r} is not an HTML attribute name.")
    return html_name.lower()


def is_safe_url(url: str) -> bool:
    """True for an http(s), scheme-relative or relative URL: never ``javascript:`` or ``data:``.

    The check reads the scheme as a browser does: after stripping control
    characters and spaces at the ends, and with tabs and newlines removed
    (``java\\tscript:`` is ``javascript:`` to a browser; ``urlsplit`` drops them too).
    """
    if url.startswith(("https://", "http://")):  # every URL the app builds itself: no parse
        return True
    try:
        scheme = urlsplit(url.strip(_C0_AND_SPACE)).scheme
    except ValueError:  # an unbalanced IPv6 bracket, say
        return False
    return scheme.lower() in _SAFE_SCHEMES


def css_string(value: str) -> str:
    """``value`` as a double-quoted CSS string: every character that could end it is escaped.

    Only letters, digits and ``+/=:;,._-`` stay as they are (all a base64
    ``data:`` URI needs); the rest become CSS hex escapes, so neither a quote,
    a parenthesis, a backslash nor ``</style>`` can leave the string.
    """
    return '"' + _CSS_PLAIN.sub(lambda found: f"\\{ord(found[0]):x} ", value) + '"'


def render_attributes(attributes: Iterable[tuple[str, object]]) -> SafeString:
    """`` name="value"`` pairs, escaped; True is a bare attribute, None and False are left out.

    Names are the caller's constants or passed :func:`attribute_name`. Values are
    escaped as Django's ``conditional_escape`` does (a value already marked
    safe is kept), with the standard library's ``html.escape`` directly: a page
    of 50 images spent more in ``format_html``'s machinery than in signing.
    """
    parts = []
    for name, value in attributes:
        if value is None or value is False:
            continue
        if value is True:
            parts.append(f" {name}")
        elif hasattr(value, "__html__"):
            parts.append(f' {name}="{value.__html__()}"')
        else:
            parts.append(f' {name}="{html.escape(str(value), quote=True)}"')
    return SafeString("".join(parts))
