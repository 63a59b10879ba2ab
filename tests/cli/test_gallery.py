"""The gallery regenerates in a fresh folder: every file non-empty, PNGs small, the GIF animated, and
``graphbp demo`` writes byte for byte the same files (a rerun gives identical files)."""

import matplotlib.image as mpimg
import pytest
from PIL import Image

from graphbp.cli import main
from graphbp.cli.gallery import write_gallery

NAMES = ["bishop_deltas.png", "bishop_highlight.png", "irregular_dag.png", "path_sum.png", "randwire.png",
         "bishop_fig53.png", "decision_regions.png", "training_deltas.png", "hessian_heatmap.png", "elimination.png",
         "backward_sweep.gif"]


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gallery") / "figures"
    return write_gallery(folder)


def test_gallery_regenerates(gallery):
    assert [p.name for p in gallery] == NAMES
    for path in gallery:
        assert path.stat().st_size > 10_000
    for path in gallery[:-1]:
        with Image.open(path) as png:  # nothing tied to the machine or the day: no software version, no date
            assert not {"Software", "Creation Time", "date:create"} & set(png.info), (path.name, png.info)
        height, width, _ = mpimg.imread(path).shape
        assert 400 <= width <= 1800 and 300 <= height <= 1200, (path.name, width, height)
        assert path.stat().st_size < 300_000
    with Image.open(gallery[-1]) as gif:
        assert gif.n_frames == 9 and gallery[-1].stat().st_size < 2_000_000     # 8 nodes, then every δ


def test_demo_writes_the_same_bytes_as_a_second_run(gallery, tmp_path, capsys):
    """`graphbp demo` into an empty folder, after write_gallery into another: the same files, byte for byte
    (no date or software version in the PNG metadata, no random state carried from one run to the next)."""
    assert main(["demo", "--out", str(tmp_path / "again")]) == 0
    out = capsys.readouterr().out
    assert "S_h1 = G.successors('h1')" in out and "delta" in out
    for name in NAMES:
        assert f"wrote {tmp_path / 'again' / name}" in out  # progress while drawing
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == sorted(NAMES)
    different = [p.name for p in gallery if (tmp_path / "again" / p.name).read_bytes() != p.read_bytes()]
    assert different == []
