"""Tests for seattn.i18n and its catalogues: every string of the interface is translated, the
translations keep what the code fills in, and a language is per context, never process-wide."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from seattn import i18n
from seattn.data.cifar10 import CIFAR10_CLASSES, class_label
from seattn.i18n import _, ngettext

ROOT = Path(__file__).resolve().parents[1]
FIELD = re.compile(r"(?<!\{)\{[^{}]*\}(?!\})")  # str.format fields: {name}, {share:.0%}
PLOTLY_FIELD = re.compile(r"%\{[^}]*\}")  # plotly's hovertemplate fields: %{x:.2f}
CJK = re.compile(r"[\u4e00-\u9fff]")
MARKUP = ("**", "`", "<b>", "<br>", "\n\n")


def extracted_messages() -> dict[str | tuple[str, ...], str]:
    """Every string the code marks for translation, as Babel's extractor finds it (the same
    mapping as ``make translations``) -> where it was found first."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str | tuple[str, ...], str] = {}
    for path, line, message, _comments, context in extract_from_dir(ROOT, method_map, options_map):
        key = message if context is None else (context, message)
        found.setdefault(key, f"{path}:{line}")
    return found


def chinese_catalogue():
    with i18n.catalogue_path("zh").open("rb") as po:
        return read_po(po, locale="zh")


def _key(message) -> str | tuple[str, ...]:
    return message.id if message.context is None else (message.context, message.id)


def _fields(text: str) -> tuple[list[str], list[str]]:
    return sorted(FIELD.findall(PLOTLY_FIELD.sub("", text))), sorted(PLOTLY_FIELD.findall(text))


def test_the_code_marks_the_interface_for_translation() -> None:
    found = extracted_messages()
    # A few strings from every part of the interface: the extractor sees them all.
    for message in (
        "Home",
        "Explore",
        "Atlas",
        "Train",
        "Compare",
        "airplane",
        "Presentation mode",
    ):
        assert message in found, message


def test_every_string_has_a_chinese_translation() -> None:
    catalogue = chinese_catalogue()
    translated = {_key(m): m for m in catalogue if m.id and not m.fuzzy and all(_strings(m))}
    missing = [
        f"{where}: {key!r}" for key, where in extracted_messages().items() if key not in translated
    ]
    assert not missing, (
        f"{len(missing)} strings have no Chinese translation (run `make translations`, then "
        "translate them in seattn/locale/zh/LC_MESSAGES/seattn.po):\n" + "\n".join(missing[:40])
    )


def test_the_catalogue_holds_no_string_the_code_no_longer_has() -> None:
    found = extracted_messages()
    stale = [repr(_key(m)) for m in chinese_catalogue() if m.id and _key(m) not in found]
    assert not stale, "run `make translations` to drop strings the code lost:\n" + "\n".join(stale)


def _strings(message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def test_translations_keep_every_field_and_mark_up() -> None:
    problems = []
    for message in chinese_catalogue():
        if not message.id:
            continue
        source = message.id[-1] if isinstance(message.id, tuple) else message.id
        for string in _strings(message):
            if _fields(string) != _fields(source):
                problems.append(f"fields differ: {source!r} -> {string!r}")
            for mark in MARKUP:
                if source.count(mark) != string.count(mark):
                    problems.append(f"{mark!r} differs: {source!r} -> {string!r}")
    assert not problems, "\n".join(problems)


def test_sentences_are_translated_into_chinese_not_copied() -> None:
    # A string with English words in it must come out with Chinese in it (names, units and
    # symbols may stay as they are: they have no lower-case word of three letters).
    copied = []
    for message in chinese_catalogue():
        source = message.id[0] if isinstance(message.id, tuple) else message.id
        words = re.sub(r"\{[^}]*\}|%\{[^}]*\}|`[^`]*`|<[^>]*>", "", source or "")
        if re.search(r"\b[a-z]{3,}\b", words) and not any(CJK.search(s) for s in _strings(message)):
            copied.append(repr(source))
    assert not copied, "\n".join(copied)


def test_english_is_spoken_where_no_language_was_chosen() -> None:
    assert i18n.active_language() == "en"
    assert _("Explore") == "Explore"
    assert ngettext("{count} epoch", "{count} epochs", 2) == "{count} epochs"


def test_speaking_switches_and_restores() -> None:
    with i18n.speaking("zh"):
        assert i18n.active_language() == "zh"
        assert CJK.search(_("Explore"))
        with i18n.speaking("en"):
            assert _("Explore") == "Explore"
        assert CJK.search(_("Explore"))
    assert _("Explore") == "Explore"


def test_a_language_is_per_thread_never_process_wide() -> None:
    # Two visitors at the same moment: each thread (a Streamlit session's script run) sees only
    # its own language, whatever the other sets in between.
    both_set = threading.Barrier(2)
    seen: dict[str, str] = {}

    def visitor(language: str) -> None:
        i18n.activate(language)
        both_set.wait(timeout=10)
        seen[language] = _("Explore")

    threads = [threading.Thread(target=visitor, args=(lang,)) for lang in ("zh", "en")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen["en"] == "Explore"
    assert CJK.search(seen["zh"])
    assert _("Explore") == "Explore"  # and this thread chose nothing


def test_cifar10_classes_are_translated_and_other_names_kept() -> None:
    with i18n.speaking("zh"):
        assert all(CJK.search(class_label(name)) for name in CIFAR10_CLASSES)
        assert class_label("Home") == "Home"  # a folder's own class, not the Home page
    assert class_label("cat") == "cat"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no catalogue"):
        i18n.translations("fr")
