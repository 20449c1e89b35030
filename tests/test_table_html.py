"""The HTML table is a real table (not rich's <pre>): checked in headless Chromium's DOM and a
screenshot, main and per-class tables, bold, marks and missed counts as in Markdown."""

import json
import subprocess

import pytest
from report_helpers import study
from test_report_outputs import _config

from advmim.cli import main
from tests.test_workflow import chromium, screenshot  # noqa: F401 (chromium: a fixture)

DOM_SCRIPT = """
<script>
window.addEventListener("load", () => {
  const tables = [...document.querySelectorAll("table.results")];
  const out = tables.map(t => ({rows: t.tBodies[0].rows.length,
                                cols: t.tHead.rows[1].cells.length,
                                bold: t.querySelectorAll("td b").length,
                                marks: [...t.querySelectorAll("td sup")].map(s => s.textContent),
                                missed: [...t.querySelectorAll("td.missed")].map(c => c.textContent)}));
  const pre = document.createElement("pre");
  pre.id = "dom-summary";
  pre.textContent = "DOM=" + JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def test_html_table_is_a_real_table_in_chromium(chromium, tmp_path):  # noqa: F811
    files = study(tmp_path / "m", seeds=(0, 1), n_cases=12)
    out = tmp_path / "t" / "phantom.md"
    assert main(["table", "--config-json", _config(["supervised_unet", "ctct", "advmim", "full_unet"]),
                 "--metrics", *map(str, files), "--out", str(out), "--quiet"]) == 0
    html = out.with_suffix(".html").read_text()
    page = tmp_path / "probe.html"
    page.write_text(html.replace("</body>", DOM_SCRIPT + "</body>"))
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={tmp_path / 'profile-dom'}", "--virtual-time-budget=5000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180)
    summary = json.loads(dom.stdout.split('id="dom-summary">DOM=', 1)[1].split("</pre>", 1)[0])
    assert len(summary) == 1 + 3  # class mean + RV, Myo, LV
    main_table = summary[0]
    assert main_table["rows"] == 4 + 6  # 4 group lines + 6 rows (CTCT and AdvMIM: S and C)
    assert main_table["cols"] == 3  # Dice, HD95, missed at 2 labeled
    assert main_table["bold"] == 2 and main_table["marks"] == ["c†", "b† d†", "a†"]
    assert main_table["missed"] == ["0"] * 6
    assert all(t["marks"] == [] for t in summary[1:])  # tests on the class mean only
    png = tmp_path / "table.png"
    screenshot(chromium, out.with_suffix(".html").as_uri(), png, tmp_path / "profile")
    import matplotlib.image as mpimg
    import numpy as np

    pixels = mpimg.imread(png)[..., :3]
    assert png.stat().st_size > 5000 and len(np.unique((pixels.reshape(-1, 3) * 255).astype(int), axis=0)) > 20


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
