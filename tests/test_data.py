"""The datamodules reproduce the seed's data exactly and feed Lightning fast streams."""

from __future__ import annotations

import math

import pytest
import torch

from lstm_lab.config import build
from lstm_lab.data.streams import FixedBatches, GeneratedBatches, ShuffledBatches


def seed_split(lookback=5, train_ratio=0.8):
    """The seed's generate_data() and split_train_test_set(), verbatim in plain Python."""
    xs = [x * 0.01 for x in range(-2000, 2000, 10)]
    ys = [x * math.sin(x) for x in xs]
    sx, sy = [], []
    for i in range(len(ys) - lookback):
        sx.append(ys[i : i + lookback])
        sy.append(ys[i + lookback])
    split = int(len(sx) * train_ratio)
    return sx[:split], sy[:split], sx[split:], sy[split:]


def test_test_windows_are_the_seeds_last_20_percent():
    dm = build("data/function")
    _, _, test_x, test_y = seed_split()
    assert len(dm.test[0]) == len(test_x) == 79
    torch.testing.assert_close(dm.test[0].squeeze(-1), torch.tensor(test_x, dtype=torch.float32))
    torch.testing.assert_close(dm.test[1], torch.tensor(test_y, dtype=torch.float32))


def test_train_and_val_together_are_the_seeds_training_part():
    dm = build("data/function", val_fraction=0.1)
    train_x, train_y, _, _ = seed_split()
    x = torch.cat((dm.train[0], dm.val[0])).squeeze(-1)
    y = torch.cat((dm.train[1], dm.val[1]))
    torch.testing.assert_close(x, torch.tensor(train_x, dtype=torch.float32))
    torch.testing.assert_close(y, torch.tensor(train_y, dtype=torch.float32))
    assert len(dm.val[0]) == round(316 * 0.1)
    assert len(build("data/function", val_fraction=0).train[0]) == 316


def test_each_window_target_is_the_next_value():
    dm = build("data/function", lookback=7)
    for x, y in (dm.train, dm.val, dm.test):
        # The next window starts one step later, so its last input is this window's target.
        torch.testing.assert_close(x[1:, -1, 0], y[:-1])
    f = lambda v: v * math.sin(v)  # noqa: E731
    assert dm.test[1][-1].item() == pytest.approx(f(19.9), abs=1e-5)
    assert dm.test_xs[-1].item() == pytest.approx(19.9, abs=1e-5)


def test_scaling_statistics_come_from_the_training_part_only():
    dm = build("data/function", val_fraction=0.1)
    train_x, train_y = dm.train
    seen = torch.cat((train_x[0, :, 0], train_y)).double()  # every value a training window sees
    loc, scale = dm.scaling
    assert loc == pytest.approx(seen.mean().item(), rel=1e-5)
    assert scale == pytest.approx(seen.std().item(), rel=1e-5)
    everything = torch.cat((train_x[0, :, 0], train_y, dm.val[1], dm.test[1])).double()
    assert loc != pytest.approx(everything.mean().item(), rel=1e-3)
    assert build("data/function", scale="none").scaling == (0.0, 1.0)


def test_cumsum_labels_follow_the_running_sum_rule():
    dm = build("data/cumsum", n_timesteps=10, threshold_fraction=0.25, n_val=50, n_test=500)
    x, y = dm.test
    assert x.shape == (500, 10, 1) and y.shape == (500, 10)
    for seq, labels in zip(x[:, :, 0].tolist(), y.tolist(), strict=True):
        running = 0.0
        for value, label in zip(seq, labels, strict=True):
            running += value
            assert label == (1.0 if running > 2.5 else 0.0)
    # Labels never go back to 0 once the limit is passed, and both classes occur.
    assert (y[:, 1:] >= y[:, :-1]).all()
    assert 0.2 < y.mean().item() < 0.9


def test_cumsum_eval_sets_are_fixed_and_training_batches_are_fresh():
    a, b = build("data/cumsum", n_val=20, n_test=30), build("data/cumsum", n_val=20, n_test=30)
    torch.testing.assert_close(a.test[0], b.test[0])
    assert not torch.equal(a.val[0], a.test[0][:20])
    stream = GeneratedBatches(a._make_batch, num_steps=5, seed=3)
    batches = [x for x, _ in stream]
    assert len(batches) == 5
    assert all(not torch.equal(batches[0], other) for other in batches[1:])


def test_every_pass_of_the_shuffled_stream_is_a_permutation():
    data = torch.arange(23.0)
    stream = ShuffledBatches((data,), batch_size=5, num_steps=5 * 3, seed=0)
    seen = torch.cat([b for (b,) in stream])
    assert stream.batches_per_pass == 5
    passes = seen.split(23)
    assert len(passes) == 3
    for one_pass in passes:
        assert sorted(one_pass.tolist()) == data.tolist()
    assert not torch.equal(passes[0], passes[1])


@pytest.mark.parametrize("kind", ["shuffled", "generated"])
def test_streams_resume_from_their_state(kind):
    def make():
        if kind == "shuffled":
            return ShuffledBatches((torch.arange(17.0),), batch_size=4, num_steps=12, seed=7)
        return GeneratedBatches(lambda g: (torch.rand(3, generator=g),), num_steps=12, seed=7)

    full = [b[0] for b in make()]
    interrupted = make()
    for i, _ in enumerate(interrupted):
        if i == 6:
            break
    state = interrupted.state_dict()
    resumed = make()
    resumed.load_state_dict(state)
    rest = [b[0] for b in resumed]
    assert len(rest) == 12 - state["step"]
    for expected, got in zip(full[state["step"] :], rest, strict=True):
        torch.testing.assert_close(expected, got)


def test_fixed_batches_cover_the_split_once():
    x = torch.arange(10.0)
    assert len(FixedBatches((x,))) == 1
    chunks = list(FixedBatches((x,), batch_size=4))
    assert [len(c[0]) for c in chunks] == [4, 4, 2]


def test_ddp_ranks_share_each_pass_without_overlap():
    data = torch.arange(21.0)
    ranks = [
        ShuffledBatches((data,), batch_size=4, num_steps=3, seed=5, rank=r, world_size=2)
        for r in (0, 1)
    ]
    first_pass = [torch.cat([b for (b,) in stream]) for stream in ranks]
    assert sorted(torch.cat(first_pass).tolist()) == data.tolist()


def test_streams_accept_a_64_bit_seed_as_torch_initial_seed_gives_with_seed_null():
    seed = 2**64 - 7
    (batch,) = next(iter(ShuffledBatches((torch.arange(9.0),), 4, num_steps=2, seed=seed)))
    assert len(batch) == 4
    (fresh,) = next(iter(GeneratedBatches(lambda g: (torch.rand(2, generator=g),), 2, seed)))
    assert fresh.shape == (2,)
