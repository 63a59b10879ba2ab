"""The gallery regenerates in a fresh folder: every file non-empty, PNGs small, the GIF animated."""

import matplotlib.image as mpimg
from PIL import Image

from graphbp.cli.gallery import write_gallery


def test_gallery_regenerates(tmp_path):
    written = write_gallery(tmp_path / "figures")
    assert [p.suffix for p in written] == [".png"] * 5 + [".gif"] + [".png"] * 5
    for path in written:
        assert path.parent == tmp_path / "figures" and path.stat().st_size > 10_000
    for path in written[:5] + written[6:]:
        height, width, _ = mpimg.imread(path).shape
        assert 400 <= width <= 1800 and 300 <= height <= 1200, (path.name, width, height)
        assert path.stat().st_size < 300_000
    with Image.open(written[5]) as gif:
        assert gif.n_frames == 9 and written[5].stat().st_size < 2_000_000     # 8 nodes, then every δ
