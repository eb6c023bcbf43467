"""Every page in Chinese (AppTest): no exception, Chinese titles and headings, and no English
sentence left anywhere a person reads, charts included.

The pages run through dashboard.py, as a visitor gets them, over a temporary zoo (an SE model
whose atlas is built over generated images, and one without SE).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from seattn import i18n
from seattn.analysis.atlas import open_atlas
from tests.app.chinese import english_left, is_chinese
from tests.helpers import PROJECT_ROOT, write_checkpoint, write_image_folder

APP = str(PROJECT_ROOT / "dashboard.py")
TIMEOUT = 120


@pytest.fixture
def zoo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    images = write_image_folder(tmp_path / "images", per_class=8)
    folder = tmp_path / "zoo"
    folder.mkdir()
    write_checkpoint(folder / "se-r16.pt", 4, data=images)
    write_checkpoint(folder / "no-se.pt", None, data=images)
    open_atlas(folder / "se-r16.pt", model_name="se-r16")
    monkeypatch.setenv("SEATTN_ZOO_DIR", str(folder))
    monkeypatch.delenv("SEATTN_DATA", raising=False)
    return folder


def chinese_app() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params["lang"] = "zh"
    return app


def run(app: AppTest) -> AppTest:
    # AppTest reads widgets back through their format_func in the test's thread: Chinese too.
    with i18n.speaking("zh"):
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def assert_reads_in_chinese(app: AppTest) -> None:
    headings = [h.value for kind in ("title", "header", "subheader") for h in app.get(kind)]
    assert headings, "the page has no heading"
    assert all(is_chinese(h) for h in headings), headings
    assert not english_left(app), english_left(app)


def open_page(page: str) -> AppTest:
    app = run(chinese_app())
    app.switch_page(f"pages/{page}.py")
    return run(app)


def test_home_in_chinese(zoo):
    app = run(chinese_app())
    assert app.title[0].value and is_chinese(app.title[0].value)
    assert_reads_in_chinese(app)
    # The sidebar: the language choice, the presentation switch and the model picker.
    assert is_chinese(app.sidebar.toggle[0].label)


def test_explore_with_its_sample_pictures_in_chinese(zoo):
    app = run(chinese_app())
    app.switch_page("pages/explore.py")
    app.session_state["explore_examples"] = True  # "Try it": one sample picture per class
    run(app)
    assert app.get("plotly_chart"), "no chart drawn"
    assert_reads_in_chinese(app)


def test_the_presentation_walk_in_chinese_step_by_step(zoo):
    app = run(chinese_app())
    app.switch_page("pages/explore.py")
    app.session_state["explore_examples"] = True
    app.session_state["seattn_presenting"] = True
    run(app)
    titles = []
    for _step in range(20):
        assert_reads_in_chinese(app)
        titles.append(app.header[0].value)
        forward = app.button(key="walk_next")
        if forward.disabled:
            break
        forward.click()
        run(app)
    # picture, prediction, block 1 in three steps, blocks 2 and 3, what SE changed
    assert len(titles) == 8 and len(set(titles)) == 8, titles
    app.button(key="walk_back").click()
    run(app)
    assert app.header[0].value == titles[-2]


@pytest.mark.parametrize("view", ["Depth", "Classes", "Channel", "Interventions"])
def test_atlas_views_in_chinese(zoo, view):
    app = run(chinese_app())
    app.switch_page("pages/atlas.py")
    app.session_state["atlas_view"] = view
    run(app)
    assert app.get("plotly_chart")
    assert_reads_in_chinese(app)


def test_train_in_chinese(zoo):
    assert_reads_in_chinese(open_page("train"))


def test_compare_in_chinese(zoo):
    assert_reads_in_chinese(open_page("compare"))
