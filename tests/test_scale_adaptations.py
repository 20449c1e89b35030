"""Scale adaptations (docs/methods.md "Scale adaptations"): the consistency ramp and the EMA
horizon as fractions of the run. Off (the defaults), the schedules are SSL4MIS's; on, the ramp is
full at the given fraction and the teacher's decay has the stated horizon."""

import math

import pytest
import torch
from torch import nn

from advmim.blocks.ema import decay_for_horizon, ema_alpha, ema_update
from advmim.methods import get_method, method_card, method_names
from advmim.methods.parts import TeacherMethod
from tests.test_methods_teacher import fixed_batch

CPU = torch.device("cpu")
WEIGHT_KEYS = ("consistency", "cross_weight")  # the ramped weight of each method's unlabeled term
LOGGED_WEIGHT = ("cons_weight", "consistency_weight", "cross_weight")  # its name in the log


def ramped_methods() -> list[str]:
    return [m for m in method_names() if "rampup_fraction" in method_card(m).default_params]


def teacher_methods() -> list[str]:
    return [m for m in method_names() if issubclass(get_method(m), TeacherMethod)]


def weight_key(method: str) -> str:
    return next(k for k in WEIGHT_KEYS if k in method_card(method).default_params)


def logged_weight(method, batch, iteration: int) -> float:
    logged = method.train_step(batch, iteration)
    return next(logged[k] for k in LOGGED_WEIGHT if k in logged)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def test_every_ramp_and_teacher_has_its_switch_off_by_default():
    assert len(ramped_methods()) >= 9 and set(teacher_methods()) >= {"mean_teacher", "uamt", "ict"}
    for name in ramped_methods():
        assert method_card(name).default_params["rampup_fraction"] == 1.0, name
    for name in teacher_methods():
        params = method_card(name).default_params
        assert params["ema_horizon_fraction"] is None and params["ema_decay"] == 0.99, name


def test_switch_off_ramp_is_ssl4mis_sigmoid_over_the_whole_run(phantom_data, tiny_settings):
    """Bit-identical to SSL4MIS's ``w exp(-5 (1 - it / iterations)^2)`` (no step rounding)."""
    for name in ("mean_teacher", "ctct"):
        settings = tiny_settings(name, iterations=40)
        m = get_method(name)(settings, CPU)
        batch = fixed_batch(settings, phantom_data)
        w = settings["method_params"][weight_key(name)]
        for it in (0, 13, 39):
            assert logged_weight(m, batch, it) == w * math.exp(-5.0 * (1.0 - it / 40) ** 2), (name, it)


@pytest.mark.parametrize("name", teacher_methods())
def test_switch_off_ema_decay_is_the_published_constant(name, tiny_settings):
    for iterations in (40, 400, 30000):
        m = get_method(name)(tiny_settings(name, iterations=iterations), CPU)
        assert m.ema_decay() == 0.99  # whatever the run length: an absolute 100-update horizon


@pytest.mark.parametrize("name", ramped_methods())
def test_ramp_reaches_full_weight_at_the_given_fraction(name, phantom_data, tiny_settings):
    settings = tiny_settings(name, iterations=40)
    settings["method_params"]["rampup_fraction"] = 0.25
    m = get_method(name)(settings, CPU)
    m.train_mode()
    batch = fixed_batch(settings, phantom_data)
    w = settings["method_params"][weight_key(name)]
    before = logged_weight(m, batch, 5)
    assert before == pytest.approx(w * math.exp(-5.0 * 0.5 ** 2))  # halfway up the ramp
    assert logged_weight(m, batch, 10) == w  # full at 0.25 x 40 iterations
    assert logged_weight(m, batch, 30) == w


def test_horizon_decay_keeps_that_many_updates_as_the_time_constant():
    """A step change of the student reaches 1 - decay ** H ~ 1 - 1/e of the way in H updates."""
    for horizon in (10, 100, 1000):
        decay = decay_for_horizon(horizon)
        teacher, student = nn.Linear(1, 1, bias=False), nn.Linear(1, 1, bias=False)
        with torch.no_grad():
            teacher.weight.zero_()
            student.weight.fill_(1.0)
        for step in range(10**6, 10**6 + horizon):  # past the warm-up: alpha == decay
            assert ema_update(teacher, student, decay, step) == decay
        reached = teacher.weight.item()
        assert reached == pytest.approx(1 - decay ** horizon, rel=1e-5)
        assert abs((1 - reached) - math.exp(-1)) < 0.02, horizon
    assert decay_for_horizon(30000 / 300) == pytest.approx(0.99)  # SSL4MIS's 100 updates
    assert decay_for_horizon(0.5) == 0.0  # below one update: the teacher copies the student


@pytest.mark.parametrize("name", teacher_methods())
def test_horizon_fraction_sets_the_teachers_decay(name, phantom_data, tiny_settings):
    settings = tiny_settings(name, iterations=40)
    settings["method_params"]["ema_horizon_fraction"] = 0.25  # 10 of 40 iterations
    m = get_method(name)(settings, CPU)
    assert m.ema_decay() == pytest.approx(0.9)
    m.train_mode()
    batch = fixed_batch(settings, phantom_data)
    m.train_step(batch, 0)
    before = {k: v.clone() for k, v in m.nets["T"].named_parameters()}
    m.train_step(batch, 30)
    alpha = ema_alpha(30, m.ema_decay())
    assert alpha == pytest.approx(0.9)
    student = dict(m.nets["C"].named_parameters())
    for key, p in m.nets["T"].named_parameters():
        torch.testing.assert_close(p, alpha * before[key] + (1 - alpha) * student[key])
    published = tiny_settings(name, iterations=30000)
    published["method_params"]["ema_horizon_fraction"] = 1 / 300
    assert get_method(name)(published, CPU).ema_decay() == pytest.approx(0.99)  # = SSL4MIS's


@pytest.mark.parametrize("value,problem", [(1.5, "outside"), ("long", "expected a number"),
                                           (True, "expected a number")])
def test_bad_horizon_fraction_is_named(value, problem):
    problems = method_card("mean_teacher").param_problems({"ema_horizon_fraction": value})
    assert len(problems) == 1 and problems[0].startswith("ema_horizon_fraction:")
    assert problem in problems[0]
    assert method_card("mean_teacher").param_problems({"ema_horizon_fraction": 0.1}) == []


@pytest.mark.parametrize("name", ["cct", "urpc"])
def test_sup_scale_sums_the_four_outputs_instead_of_averaging(name, phantom_data, tiny_settings):
    """Published (0.5): ``(4 CE + 4 Dice) / 8``; 2.0: four times that, the same gradient on the
    main output as the labeled-only U-Net's ``0.5 (CE + Dice)`` (docs/methods.md)."""
    assert method_card(name).default_params["sup_scale"] == 0.5
    logged = {}
    for scale in (0.5, 2.0):
        settings = tiny_settings(name)
        settings["method_params"].update(sup_scale=scale, consistency=0.0)
        torch.manual_seed(0)
        m = get_method(name)(settings, CPU)
        logged[scale] = m.train_step(fixed_batch(settings, phantom_data), 0)
    assert logged[2.0]["sup"] == pytest.approx(4 * logged[0.5]["sup"], rel=1e-5)
    assert logged[2.0]["sup_main"] == pytest.approx(logged[0.5]["sup_main"], rel=1e-5)


def test_sup_scale_is_a_cpu_scale_switch_of_acdc_cpu_only():
    from tests.workflow_utils import shipped_config

    cpu, paper = shipped_config("acdc_cpu.yaml"), shipped_config("acdc.yaml")
    for name in ("cct", "urpc"):
        assert cpu["method_params"][name]["sup_scale"] == 2.0
        assert paper.get("method_params", {}).get(name, {}).get("sup_scale", 0.5) == 0.5
