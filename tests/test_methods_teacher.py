"""Semi-supervised baselines, part A: Mean Teacher, UA-MT, ICT, Entropy Minimisation."""

import math
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn

from advmim.blocks.consistency import consistency_weight, input_noise
from advmim.blocks.ema import ema_alpha, ema_update, make_teacher
from advmim.blocks.losses import softmax_mse
from advmim.errors import ConfigError
from advmim.methods import Batch, get_method, method_names
from advmim.methods.ict import mix
from advmim.methods.uamt import masked_mse, uncertainty_threshold
from advmim.train.checkpoint import load_checkpoint
from advmim.train.loop import LAST_CHECKPOINT, make_batch, train, training_sets
from advmim.train.sampling import EpochSampler

CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"
METHODS = ["mean_teacher", "uamt", "ict", "entropy_min"]
TEACHER_METHODS = ["mean_teacher", "uamt", "ict"]
CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def fixed_batch(settings: dict, data: Path) -> Batch:
    labeled, unlabeled = training_sets(settings, data)
    xl, yl = make_batch(labeled, EpochSampler(len(labeled), 2, 0, "labeled"), 0, CPU)
    xu, _ = make_batch(unlabeled, EpochSampler(len(unlabeled), 2, 0, "unlabeled"), 0, CPU)
    return Batch(xl, yl, xu)


def test_registered_and_in_the_full_table():
    config = yaml.safe_load((CONFIG.parent / "full_table.yaml").read_text())
    for name in METHODS:
        assert name in method_names()
        assert name in config["methods"]
        assert get_method(name).reported == {"C": ""}


@pytest.mark.parametrize("method", METHODS)
def test_train_loop_writes_model(method, phantom_data, tmp_path, tiny_settings):
    settings = tiny_settings(method, iterations=3)
    model = train(settings, phantom_data, tmp_path / "run", device=CPU, progress=False)
    state = load_checkpoint(model)
    assert set(state["nets"]) == {"C"}
    log = (tmp_path / "run" / "train_log.csv").read_text().splitlines()
    assert len(log) == 1 + settings["iterations"]
    assert "cons" in log[0] and "sup" in log[0]


@pytest.mark.parametrize("method", METHODS)
def test_supervised_loss_decreases_on_fixed_batch(method, phantom_data, tiny_settings):
    torch.manual_seed(0)
    settings = tiny_settings(method, iterations=15)
    m = get_method(method)(settings, CPU)
    m.train_mode()
    batch = fixed_batch(settings, phantom_data)
    sup = []
    for it in range(15):
        logged = m.train_step(batch, it)
        assert all(math.isfinite(v) for v in logged.values()), logged
        sup.append(logged["sup"])
    assert sum(sup[-3:]) / 3 < 0.9 * sup[0], sup


@pytest.mark.parametrize("method", TEACHER_METHODS)
def test_teacher_is_frozen_ema_of_student(method, phantom_data, tiny_settings):
    settings = tiny_settings(method, iterations=3)
    m = get_method(method)(settings, CPU)
    m.train_mode()
    assert "T" not in m.optimizers and m.nets["T"].training  # SSL4MIS: teacher in train mode
    assert not any(p.requires_grad for p in m.nets["T"].parameters())
    batch = fixed_batch(settings, phantom_data)
    m.train_step(batch, 0)  # alpha = 0: the teacher becomes the student
    for t, s in zip(m.nets["T"].state_dict().values(), m.nets["C"].state_dict().values(), strict=True):
        assert torch.equal(t, s)
    before = {k: v.clone() for k, v in m.nets["T"].state_dict().items()}
    m.train_step(batch, 5)
    alpha = ema_alpha(5, settings["method_params"]["ema_decay"])
    student = dict(m.nets["C"].named_parameters())
    for name, p in m.nets["T"].named_parameters():
        torch.testing.assert_close(p, alpha * before[name] + (1 - alpha) * student[name])
    assert not torch.equal(m.nets["T"].state_dict()["decoder.out_conv.weight"],
                           before["decoder.out_conv.weight"])


def test_ema_update_parameters_and_buffers():
    torch.manual_seed(0)
    student = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    teacher = make_teacher(student)
    with torch.no_grad():
        for p in student.parameters():
            p.add_(torch.randn_like(p))
    student(torch.randn(8, 3))  # changes the BN running statistics
    old = [p.clone() for p in teacher.parameters()]
    alpha = ema_update(teacher, student, 0.99, step=3)
    assert alpha == pytest.approx(0.75)
    for t, o, s in zip(teacher.parameters(), old, student.parameters(), strict=True):
        torch.testing.assert_close(t, 0.75 * o + 0.25 * s)
    for t, s in zip(teacher.buffers(), student.buffers(), strict=True):
        assert torch.equal(t, s)


def test_ema_alpha_schedule():
    assert ema_alpha(0, 0.99) == 0.0
    assert ema_alpha(1, 0.99) == pytest.approx(0.5)
    assert ema_alpha(9, 0.99) == pytest.approx(0.9)
    assert ema_alpha(10_000, 0.99) == 0.99


def test_consistency_weight_ramp_and_ctct_uses_it():
    assert consistency_weight(0.1, 0, 100, 1.0) == pytest.approx(0.1 * math.exp(-5))
    assert consistency_weight(0.1, 50, 100, 0.5) == pytest.approx(0.1)
    assert consistency_weight(0.1, 25, 100, 1.0) < consistency_weight(0.1, 50, 100, 1.0)
    ctct = get_method("ctct").__new__(get_method("ctct"))
    ctct.settings, ctct.params = {"iterations": 100}, {"cross_weight": 0.3, "rampup_fraction": 0.5}
    assert ctct.cross_weight(20) == consistency_weight(0.3, 20, 100, 0.5)


def test_input_noise_is_clipped():
    torch.manual_seed(0)
    x = torch.zeros(4, 1, 16, 16)
    noise = input_noise(x)
    assert noise.abs().max() <= 0.2 and noise.std() > 0.05


def test_uamt_threshold_schedule():
    assert uncertainty_threshold(100, 100) == pytest.approx(math.log(2))  # SSL4MIS default
    ln4 = math.log(4)
    assert uncertainty_threshold(0, 100, 4) == pytest.approx((0.75 + 0.25 * math.exp(-5)) * ln4)
    assert uncertainty_threshold(100, 100, 4) == pytest.approx(ln4)
    values = [uncertainty_threshold(i, 100, 4) for i in range(0, 101, 10)]
    assert values == sorted(values)


def test_uamt_masked_mse():
    torch.manual_seed(0)
    a, b = torch.randn(2, 4, 8, 8), torch.randn(2, 4, 8, 8)
    pa, pb = a.softmax(1), b.softmax(1)
    ones = torch.ones(2, 8, 8)
    torch.testing.assert_close(masked_mse(pa, pb, ones, "mean"), softmax_mse(a, b))
    # SSL4MIS: the masked sum over classes and pixels divided by 2 x masked pixels
    torch.testing.assert_close(masked_mse(pa, pb, ones), ((pa - pb) ** 2).sum() / (2 * 128))
    assert masked_mse(pa, pb, torch.zeros(2, 8, 8)) == 0
    half = torch.zeros(2, 8, 8)
    half[:, :4] = 1
    torch.testing.assert_close(masked_mse(pa, pb, half, "mean"), ((pa - pb)[:, :, :4] ** 2).mean())
    with pytest.raises(ValueError, match="consistency_norm"):
        masked_mse(pa, pb, half, "median")


def test_uamt_teacher_passes_shapes(phantom_data, tiny_settings):
    settings = tiny_settings("uamt")
    m = get_method("uamt")(settings, CPU)
    m.train_mode()
    xu = fixed_batch(settings, phantom_data).xu
    target, unc = m.teacher_passes(xu)
    assert target.shape == (2, 4, 32, 32) and unc.shape == (2, 32, 32)
    assert (unc >= 0).all() and (unc <= math.log(4) + 1e-5).all()
    torch.testing.assert_close(target.sum(1), torch.ones(2, 32, 32))


def test_ict_mixing():
    a, b = torch.zeros(3, 4, 8, 8), torch.ones(3, 4, 8, 8)
    lam = torch.tensor([0.0, 0.25, 1.0])
    mixed = mix(a, b, lam)
    assert mixed.shape == a.shape
    assert mixed[0].eq(0).all() and mixed[1].eq(0.25).all() and mixed[2].eq(1).all()


def test_ict_mix_factors_and_batch_check(tiny_settings):
    settings = tiny_settings("ict", batch_unlabeled=4)
    m = get_method("ict")(settings, CPU)
    lam = m.mix_factors(7, 2)
    assert lam.shape == (2,) and ((lam >= 0) & (lam <= 1)).all()
    assert torch.equal(lam, m.mix_factors(7, 2)) and not torch.equal(lam, m.mix_factors(8, 2))
    with pytest.raises(ConfigError, match="batch_unlabeled must be even"):
        get_method("ict")(tiny_settings("ict", batch_unlabeled=3), CPU)


def test_entropy_term_is_normalised(tiny_settings):
    settings = tiny_settings("entropy_min")
    m = get_method("entropy_min")(settings, CPU)
    assert set(m.nets) == {"C"} and not m.frozen
    n = 2
    xl = torch.zeros(n, 1, 32, 32)
    with torch.no_grad():  # a zero output layer gives uniform softmax: normalised entropy 1
        m.nets["C"].decoder.out_conv.weight.zero_()
        m.nets["C"].decoder.out_conv.bias.zero_()
    logged = m.train_step(Batch(xl, torch.zeros(n, 32, 32, dtype=torch.long), xl), 0)
    assert logged["cons"] == pytest.approx(1.0, abs=1e-5)


def test_mean_teacher_resume_is_exact(phantom_data, tmp_path, tiny_settings):
    settings = tiny_settings("mean_teacher", iterations=4, checkpoint_every=2)
    straight = train(settings, phantom_data, tmp_path / "a", device=CPU, progress=False)
    train(settings, phantom_data, tmp_path / "b", device=CPU, progress=False, stop_after=2)
    assert load_checkpoint(tmp_path / "b" / LAST_CHECKPOINT)["iteration"] == 2
    resumed = train(settings, phantom_data, tmp_path / "b", device=CPU, progress=False)
    a, b = load_checkpoint(straight)["nets"]["C"], load_checkpoint(resumed)["nets"]["C"]
    assert all(torch.equal(a[k], b[k]) for k in a)
