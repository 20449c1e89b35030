"""benchmarks/mkldnn_ops.py: the layout check classifies ops and would notice a torch that keeps
the layout through the U-Net's non-convolution ops."""

from benchmarks import mkldnn_ops


def test_convolution_keeps_the_layout_and_a_failing_op_is_reported():
    assert mkldnn_ops.check(mkldnn_ops.unet_ops()["conv2d"]) == (True, True, "")
    ok, stays, err = mkldnn_ops.check(mkldnn_ops.swin_ops()["roll (shifted windows)"])
    assert not ok and not stays and "roll" in err


def test_main_prints_a_row_per_op_and_the_counts(capsys):
    mkldnn_ops.main()
    out = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("| unet |") for line in out) == len(mkldnn_ops.unet_ops())
    assert sum(line.startswith("| swin |") for line in out) == len(mkldnn_ops.swin_ops())
    assert out[-1].startswith("unet_ops_kept=") and " swin_ops_kept=" in out[-1]
