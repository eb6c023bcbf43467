"""Start the dashboard: ``streamlit run dashboard.py``, with the heavy libraries loaded first.

    python serve.py [streamlit options, e.g. --server.port 8501]      (what ``make run`` runs)

A fresh Streamlit server imports nothing of the dashboard until the first visitor's script runs,
so that visitor would wait some seconds for torch, torchvision, pandas and plotly
(bench/page_speed.py measures it). Here they are imported before the server opens its port: the
server takes those seconds to start instead, before anyone can be waiting on a page.

Those libraries leave some 400,000 objects (three quarters of them torch's and torchvision's) that
live as long as the server. After every script run Streamlit collects garbage in full
(``runner.postScriptGC``) before it tells the browser the run is over, and walking those objects
took about 180 ms on 2 cores: the floor of every click. ``gc.freeze()`` moves them out of the
collector's sight once they are imported, so each collection walks only what the pages made
(bench/page_speed.py --pages atlas, on 2 cores of an AMD EPYC: an Atlas view switch took 280-341
ms median under plain ``streamlit run``, 155-226 ms through this file).
"""

from __future__ import annotations

import gc
import sys


def import_the_dashboards_libraries() -> None:
    import pages.ui.atlas  # noqa: F401  the picker, the atlas loader and through them torch
    import pages.ui.forms  # noqa: F401
    import seattn.analysis.compare.tables  # noqa: F401
    import seattn.analysis.explore  # noqa: F401
    import seattn.figures.atlas  # noqa: F401
    import seattn.figures.compare  # noqa: F401
    import seattn.figures.training  # noqa: F401


def main() -> int:
    from streamlit.web import cli

    import_the_dashboards_libraries()
    gc.collect()
    gc.freeze()  # the libraries' objects live as long as the server: never walk them again
    sys.argv = ["streamlit", "run", "dashboard.py", *sys.argv[1:]]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
