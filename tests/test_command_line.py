"""The command line before Hydra reads it: Hydra's flags keep their values in either spelling."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra._internal.utils import get_args_parser

from lstm_lab.cli import prepare_argv, split_flags
from lstm_lab.config import CONFIG_DIR

# (command line, what Hydra's parser must read from the command prepare_argv hands it)
FLAGS = [
    ("experiment=stacked_lstm --cfg job", {"cfg": "job"}),
    ("--cfg job experiment=stacked_lstm", {"cfg": "job"}),
    ("--cfg=job experiment=stacked_lstm", {"cfg": "job"}),
    ("-c hydra experiment=stacked_lstm", {"cfg": "hydra"}),
    ("-call experiment=stacked_lstm", {"cfg": "all"}),
    ("experiment=stacked_lstm --cfg job --package model", {"cfg": "job", "package": "model"}),
    ("--package=model -c job experiment=stacked_lstm", {"cfg": "job", "package": "model"}),
    ("-p model --cfg=job experiment=stacked_lstm", {"cfg": "job", "package": "model"}),
    ("--cfg job --resolve experiment=stacked_lstm", {"cfg": "job", "resolve": True}),
    ("--info experiment=stacked_lstm", {"info": "all"}),
    ("experiment=stacked_lstm --info", {"info": "all"}),
    ("--info defaults experiment=stacked_lstm", {"info": "defaults"}),
    ("--info=searchpath experiment=stacked_lstm", {"info": "searchpath"}),
    ("-i plugins experiment=stacked_lstm", {"info": "plugins"}),
]


@pytest.mark.parametrize("command,expected", FLAGS, ids=[c for c, _ in FLAGS])
def test_every_hydra_flag_keeps_its_value_wherever_it_stands(command, expected):
    argv = prepare_argv(["train.py", *command.split()], Path(CONFIG_DIR))
    parsed = vars(get_args_parser().parse_args(argv[1:]))
    assert parsed["overrides"] == ["experiment=stacked_lstm"]
    assert {key: parsed[key] for key in expected} == expected


def test_flags_and_overrides_are_told_apart():
    flags, overrides = split_flags(["-m", "--config-dir", "/x", "a=1", "~b", "--cfg", "job"])
    assert flags == ["-m", "--config-dir", "/x", "--cfg", "job"]
    assert overrides == ["a=1", "~b"]
