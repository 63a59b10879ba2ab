"""The gallery regenerates in a fresh folder: every file non-empty, PNGs small, the GIF animated, and
``graphbp gallery`` writes byte for byte the same files (a rerun gives identical files). ``graphbp demo``
draws them into ./graphbp-demo, never into the repository's figures/."""

import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import pytest
from PIL import Image

import graphbp.cli.gallery
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


def test_gallery_command_writes_the_same_bytes_as_a_second_run(gallery, tmp_path, capsys):
    """`graphbp gallery` into an empty folder, after write_gallery into another: the same files, byte for byte
    (no date or software version in the PNG metadata, no random state carried from one run to the next)."""
    assert main(["gallery", "--out", str(tmp_path / "again")]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert f"wrote {tmp_path / 'again' / name}" in out  # progress while drawing
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == sorted(NAMES)
    different = [p.name for p in gallery if (tmp_path / "again" / p.name).read_bytes() != p.read_bytes()]
    assert different == []


def _record_folders(monkeypatch):
    """Replace write_gallery by a stand-in that writes one file into the folder asked for, and list the folders."""
    folders = []

    def fake(folder, progress):
        folders.append(folder)
        path = Path(folder) / "bishop_deltas.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"png")
        progress(path)
        return [path]

    monkeypatch.setattr(graphbp.cli.gallery, "write_gallery", fake)
    return folders


@pytest.mark.parametrize("argv, folder", [(["demo"], "graphbp-demo"), (["demo", "--out", "mine"], "mine"),
                                          (["gallery"], "figures"), (["gallery", "--out", "x/y"], "x/y")])
def test_where_demo_and_gallery_write(argv, folder, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    folders = _record_folders(monkeypatch)
    assert main(argv) == 0
    assert folders == [folder] and [p.name for p in tmp_path.iterdir()] == [folder.split("/")[0]]
    assert f"wrote 1 figures to {folder}/" in capsys.readouterr().out


def test_demo_out_none_writes_nothing(tmp_path):
    done = subprocess.run([sys.executable, "-m", "graphbp", "demo", "--out", "none"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "S_h1 = G.successors('h1')" in done.stdout and "gradient check" in done.stdout
    assert "drawing" not in done.stdout and list(tmp_path.iterdir()) == []
