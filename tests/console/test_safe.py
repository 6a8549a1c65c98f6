"""Safe display: markup off, every control character visible."""

from __future__ import annotations

import pytest
from rich.console import Console

from console.safe import safe_json, safe_text, visible
from tests.console.hostile import FORBIDDEN, HOSTILE


@pytest.mark.parametrize("hostile", HOSTILE)
def test_visible_removes_every_forbidden_character(hostile: str) -> None:
    shown = visible(hostile)
    assert not any(bad in shown for bad in FORBIDDEN)


def test_escape_is_shown_as_a_control_picture() -> None:
    assert visible("\x1b[2J") == "␛[2J"


def test_c1_controls_are_shown_as_hex_escapes() -> None:
    assert visible("\x9b31m") == "\\x9b31m"


def test_bidi_override_is_shown_as_a_tag() -> None:
    assert visible("a\u202eb") == "a<U+202E>b"


def test_zero_width_characters_are_shown_as_tags() -> None:
    assert visible("a\u200bb\ufeff") == "a<U+200B>b<U+FEFF>"


def test_newline_is_visible_unless_multiline() -> None:
    assert visible("a\nb") == "a␊b"
    assert visible("a\nb\tc", multiline=True) == "a\nb    c"


def test_max_length_cuts_with_an_ellipsis() -> None:
    assert visible("abcdefgh", max_length=5) == "abcd…"


def test_markup_is_kept_literally() -> None:
    text = safe_text("[@click=app.quit]x[/]")
    assert text.plain == "[@click=app.quit]x[/]"
    assert text.spans == []


@pytest.mark.parametrize("hostile", HOSTILE)
def test_rendered_text_emits_no_escape_byte_of_its_own(hostile: str) -> None:
    console = Console(force_terminal=False, width=200, color_system=None)
    with console.capture() as capture:
        console.print(safe_text(hostile))
    assert not any(bad in capture.get() for bad in FORBIDDEN)


def test_rendered_text_binds_no_click_action() -> None:
    console = Console(width=200)
    segments = list(console.render(safe_text("[@click=app.quit]click[/]")))
    assert all(not (segment.style and segment.style.meta) for segment in segments)


def test_safe_json_shows_payloads_with_controls_visible() -> None:
    text = safe_json({"note": "\u202eevil", "nested": {"x": "\x9b"}})
    assert "\u202e" not in text.plain and "\x9b" not in text.plain
    assert '"note": "<U+202E>evil"' in text.plain


def test_non_strings_are_shown_by_their_str() -> None:
    assert visible(42) == "42"
