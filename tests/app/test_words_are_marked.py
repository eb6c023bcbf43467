"""No page hands Streamlit an English sentence that gettext never sees.

The Chinese AppTests see what a run draws; this looks at every branch of every page, read as
Python: a string literal (or an f-string with words in it) given straight to a Streamlit call
that shows it, as its text, label, help or placeholder, has not gone through ``_()``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.helpers import PROJECT_ROOT

SHOWING_CALLS = {
    "title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error",
    "success", "toast", "spinner", "button", "toggle", "checkbox", "selectbox", "multiselect",
    "radio", "segmented_control", "pills", "slider", "select_slider", "number_input",
    "text_input", "text_area", "file_uploader", "camera_input", "download_button", "page_link",
    "link_button", "metric", "expander", "tabs", "form_submit_button", "progress", "status",
    "Page",
}  # fmt: skip
SHOWN_KEYWORDS = {"label", "help", "placeholder", "caption", "text", "title"}
# Words that read the same in every language: the language picker's own label.
LANGUAGE_NEUTRAL = {"语言 · Language"}
WORDS = re.compile(r"[A-Za-z]{2,}")


def literal_words(node: ast.expr) -> str | None:
    """The words a literal (or an f-string's literal parts) would show, or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
    else:
        return None
    text = re.sub(r"<[^>]*>|:material/[a-z_]+:|`[^`]*`", " ", text)
    return text if WORDS.search(text) and text not in LANGUAGE_NEUTRAL else None


def unmarked_words(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if name not in SHOWING_CALLS:
            continue
        shown = node.args[:1] + [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
        if name == "tabs" and node.args and isinstance(node.args[0], ast.List | ast.Tuple):
            shown += list(node.args[0].elts)
        for argument in shown:
            words = literal_words(argument)
            if words is not None:
                where = (
                    path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
                )
                found.append(f"{where}:{node.lineno}: {words!r}")
    return found


def test_every_page_marks_its_words_for_translation() -> None:
    files = [PROJECT_ROOT / "dashboard.py", *sorted((PROJECT_ROOT / "pages").rglob("*.py"))]
    found = [line for path in files for line in unmarked_words(path)]
    assert not found, "wrap these in _() (seattn/i18n.py):\n" + "\n".join(found)


def test_the_check_finds_an_unmarked_sentence(tmp_path: Path) -> None:
    page = tmp_path / "page.py"
    marked = "st.title(_('Explore'))\nst.caption(f'{count} ·')\n"
    unmarked = "st.button('Start training')\nst.info(f'Saved {run} to disk')\n"
    page.write_text(marked + unmarked)
    assert [line.split(": ", 1)[1] for line in unmarked_words(page)] == [
        "'Start training'",
        "'Saved  to disk'",
    ]
