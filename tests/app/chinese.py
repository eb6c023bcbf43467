"""What an AppTest run shows a person, and the English left in it when it should be Chinese."""

from __future__ import annotations

import json
import re

from streamlit.testing.v1 import AppTest

CJK = re.compile(r"[\u4e00-\u9fff]")
# What may stay in Latin letters inside Chinese text: names, units, formats and symbols.
KEPT_AS_THEY_ARE = re.compile(
    r"`[^`]*`"  # code, commands, file names in backticks
    r"|%\{[^}]*\}|<[^>]*>|&[a-z]+;"  # plotly fields, HTML tags and entities
    r"|https?://\S+|\S+\.(?:pt|png|jpe?g|json|csv|py)\b|[\w./-]*/[\w./-]+"  # links, files, paths
    r"|\b[a-z0-9]+(?:-[a-z0-9]+)+\b"  # model and run names: se-r16, no-se-course, crop-flip
    r"|\b(?:SE|ECA|CBAM|CIFAR|PyTorch|torchvision|seattn|CSV|JSON|PNG|JPEG|WebP|BMP|GIF|TIFF|"
    r"MB|KB|GB|px|FLOPs?|SGD|Adam|Nesterov|ReLU|Sigmoid|Linear|BatchNorm|Conv|std|lr|min|max|"
    r"Grad-CAM|ImageFolder|Ctrl|SIGTERM|GPU|CPU|CUDA|bfloat16|float32|float16|AVX2|top|"
    r"k|r|x|h|s|e|bundled|run|uploaded|ok|OK)\b",
)
ENGLISH_WORDS = re.compile(r"\b[A-Za-z]{3,}(?:[\s,:;'’-]+[A-Za-z]{2,})+\b")


def shown_texts(app: AppTest) -> list[str]:
    """The words of a run: headings, prose, messages, widget labels, options, help, tables'
    headers and the charts' titles, axes, legends, annotations and hover templates."""
    texts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                 "error", "success", "toast"):  # fmt: skip
        texts += [element.value for element in getattr(app, kind)]
    for kind in ("button", "toggle", "checkbox", "selectbox", "multiselect", "radio", "slider",
                 "number_input", "text_input", "segmented_control", "metric", "expander",
                 "tabs", "download_button", "file_uploader", "camera_input"):  # fmt: skip
        for widget in app.get(kind):
            proto = widget.proto
            texts += [getattr(proto, name, "") for name in ("label", "help", "placeholder")]
            texts += [str(option) for option in getattr(widget, "options", [])]
    for table in app.dataframe:
        texts += [str(column) for column in table.value.columns]
    for chart in app.get("plotly_chart"):
        texts += list(_figure_words(json.loads(chart.proto.spec)))
    return [text for text in texts if text]


def _figure_words(spec: dict):
    def walk(node, key=""):
        if isinstance(node, dict):
            for name, value in node.items():
                yield from walk(value, name)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value, key)
        elif isinstance(node, str) and key in ("text", "name", "hovertemplate", "title"):
            yield node

    layout = {k: v for k, v in spec.get("layout", {}).items() if k != "template"}
    yield from walk(layout)
    for trace in spec.get("data", []):
        yield from walk({k: v for k, v in trace.items() if k in ("name", "hovertemplate")})


def english_left(app: AppTest) -> list[str]:
    """Texts of the run that still hold English words (two or more in a row) once names,
    units and formats are set aside."""
    left = []
    for text in shown_texts(app):
        rest = KEPT_AS_THEY_ARE.sub(" ", text)
        rest = re.sub(r"\{[^}]*\}", " ", rest)
        match = ENGLISH_WORDS.search(rest)
        if match:
            left.append(f"{match.group(0)!r} in {text[:120]!r}")
    return left


def is_chinese(text: str) -> bool:
    return bool(CJK.search(text))
