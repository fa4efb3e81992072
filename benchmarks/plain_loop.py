"""The reference for `make bench`: a hand-written PyTorch loop doing what train.py does.

    python benchmarks/plain_loop.py --spec '<json from bench.py>' --out result.json

bench.py composes an experiment's Hydra config and hands this script the plain values (data,
model, optimizer, schedule, steps, seed), so both arms run the same recipe. This script
imports torch only, as a hand-written script would, and does the same work as
`python train.py experiment=X`:

- the same data (same splits, scaling, per-pass permutations or generated batches, same seeds),
- the same model (nn.LSTM + linear head, torch or Keras initialisation, seeded the same way),
- the same optimizer and per-step schedule, for the same number of optimizer steps,
- validation on the whole validation set every `val_check_interval` steps, saving the best
  and the last state (model, optimizer, schedule) to disk, as ModelCheckpoint does,
- the test set scored once with the best weights.

It leaves out what train.py adds for its users: TensorBoard curves, the progress bar, the PNG
plot, the Hydra run folder and the metrics table. It is a plain script: no interpreter tuning
(train.py freezes the garbage collector after its imports).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.functional import binary_cross_entropy_with_logits


def sine_product_data(spec: dict[str, Any]) -> dict[str, Any]:
    """x*sin(x) windows split as FunctionDataModule does, with the model's (loc, scale)."""
    lookback = spec["lookback"]
    xs = torch.arange(-2000, 2000, 10, dtype=torch.float64) * 0.01
    ys = xs * torch.sin(xs)
    x = ys.unfold(0, lookback, 1)[: len(ys) - lookback].unsqueeze(-1)
    y = ys[lookback:]
    split = int(len(x) * spec["train_ratio"])
    n_train = split - round(split * spec["val_fraction"])
    train_values = ys[: n_train + lookback]
    if spec["scale"] == "standard":
        loc, scale = float(train_values.mean()), float(train_values.std())
    else:
        loc, scale = 0.0, 1.0
    return {
        "train": (x[:n_train].float(), y[:n_train].float()),
        "val": (x[n_train:split].float(), y[n_train:split].float()),
        "test": (x[split:].float(), y[split:].float()),
        "loc": loc,
        "scale": scale,
    }


def cumsum_sequences(n: int, spec: dict[str, Any], generator: torch.Generator):
    """`n` sequences of uniform values and their labels: 1 once the running sum passes limit."""
    x = torch.rand(n, spec["n_timesteps"], 1, generator=generator)
    limit = spec["threshold_fraction"] * spec["n_timesteps"]
    return x, (x.squeeze(-1).cumsum(dim=1) > limit).float()


def cumsum_data(spec: dict[str, Any]) -> dict[str, Any]:
    generator = torch.Generator().manual_seed(spec["data_seed"])
    val = cumsum_sequences(spec["n_val"], spec, generator)
    return {"val": val, "test": cumsum_sequences(spec["n_test"], spec, generator)}


def shuffled_batches(tensors: tuple[Tensor, ...], batch_size: int, num_steps: int, seed: int):
    """Minibatches; every pass over the data is a fresh seeded permutation."""
    n = len(tensors[0])
    batches_per_pass = -(-n // batch_size)
    for step in range(num_steps):
        pass_index, offset = divmod(step, batches_per_pass)
        if offset == 0:
            generator = torch.Generator().manual_seed(seed * 1_000_003 + pass_index)
            perm = torch.randperm(n, generator=generator)
        idx = perm[offset * batch_size : (offset + 1) * batch_size]
        yield tuple(t[idx] for t in tensors)


def generated_batches(spec: dict[str, Any], num_steps: int, seed: int):
    """Fresh sequences every step, seeded by (seed, step)."""
    generator = torch.Generator()
    for step in range(num_steps):
        generator.manual_seed(seed * 1_000_003 + step)
        yield cumsum_sequences(spec["batch_size"], spec, generator)


class Net(nn.Module):
    """nn.LSTM + linear head: on the last step (regressor) or on every step (classifier)."""

    def __init__(self, task: str, spec: dict[str, Any], loc: float, scale: float) -> None:
        super().__init__()
        if spec["bidirectional"] and spec["merge_mode"] != "concat":
            raise ValueError("the plain loop implements merge_mode=concat only")
        self.task = task
        self.hidden_size = spec["hidden_size"]
        self.lstm = nn.LSTM(
            spec["input_size"],
            spec["hidden_size"],
            num_layers=spec["num_layers"],
            dropout=spec["dropout"] if spec["num_layers"] > 1 else 0.0,
            bidirectional=spec["bidirectional"],
            batch_first=True,
        )
        if spec["init"] == "keras":
            self.keras_init()
        self.head = nn.Linear(spec["hidden_size"] * (2 if spec["bidirectional"] else 1), 1)
        if spec["init"] == "keras":
            nn.init.xavier_uniform_(self.head.weight)  # Keras' Dense defaults
            nn.init.zeros_(self.head.bias)
        self.register_buffer("loc", torch.tensor(loc))
        self.register_buffer("scale", torch.tensor(scale))

    def keras_init(self) -> None:
        # Keras 3's LSTM defaults, as models/encoder.py sets them (this file imports torch only).
        h = self.hidden_size
        for name, param in self.lstm.named_parameters():
            if name.startswith("weight_ih"):
                nn.init.xavier_uniform_(param)
            elif name.startswith("weight_hh"):
                nn.init.orthogonal_(param)
            elif name.startswith("bias_ih"):
                nn.init.zeros_(param)
                param.data[h : 2 * h] = 1.0
            elif name.startswith("bias_hh"):
                nn.init.zeros_(param)
                param.requires_grad_(False)

    def forward(self, x: Tensor) -> Tensor:
        if self.task == "classifier":
            output, _ = self.lstm(x)
            return self.head(output).squeeze(-1)
        _, (h_n, _) = self.lstm((x - self.loc) / self.scale)
        last = torch.cat((h_n[-2], h_n[-1]), dim=-1) if self.lstm.bidirectional else h_n[-1]
        return self.head(last).squeeze(-1) * self.scale + self.loc

    def loss_and_metrics(self, x: Tensor, y: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        out = self(x)
        if self.task == "classifier":
            correct = (out > 0) == y.bool()
            return binary_cross_entropy_with_logits(out, y), {
                "acc": correct.float().mean(),
                "seq_acc": correct.all(dim=1).float().mean(),
            }
        error = out - y
        mse = error.square().mean()
        return mse / self.scale.square(), {"mse": mse, "mae": error.abs().mean()}


def make_optimizer(params, cfg: dict[str, Any]) -> torch.optim.Optimizer:
    kwargs: dict[str, Any] = {
        "lr": cfg["lr"],
        "weight_decay": cfg["weight_decay"],
        "eps": cfg["eps"],
    }
    if cfg.get("fused"):
        kwargs["fused"] = True
    optimizer_cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[cfg["name"]]
    return optimizer_cls(params, **kwargs)


def make_scheduler(optimizer: torch.optim.Optimizer, cfg: dict[str, Any], total_steps: int):
    kwargs = {k: v for k, v in cfg.items() if k != "name"}
    if cfg["name"] == "onecycle":
        max_lr = [group["lr"] for group in optimizer.param_groups]
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=max_lr, total_steps=total_steps, **kwargs
        )
    if cfg["name"] == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps, **kwargs)
    return None


def run(spec: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """Train, validate and checkpoint, test with the best weights; returns the figures."""
    if spec.get("num_threads"):
        torch.set_num_threads(spec["num_threads"])
    torch.manual_seed(spec["seed"])
    task, data_cfg, model_cfg = spec["task"], spec["data"], spec["model"]
    max_steps, val_every = spec["max_steps"], spec["val_check_interval"]

    if task == "regressor":
        data = sine_product_data(data_cfg)
        model = Net(task, model_cfg, data["loc"], data["scale"])
        batches = shuffled_batches(data["train"], data_cfg["batch_size"], max_steps, spec["seed"])
    else:
        data = cumsum_data(data_cfg)
        model = Net(task, model_cfg, 0.0, 1.0)
        batches = generated_batches(data_cfg, max_steps, spec["seed"])
    has_val = len(data["val"][0]) > 0
    out_dir.mkdir(parents=True, exist_ok=True)
    best_path, last_path = out_dir / "best.pt", out_dir / "last.pt"

    # Built before the clock: torch's first optimizer imports torch._dynamo (a second or
    # more), which train.py pays at import time, outside its fit time.
    optimizer = make_optimizer(model.parameters(), model_cfg["optimizer"])
    scheduler = make_scheduler(optimizer, model_cfg["scheduler"], max_steps)
    start = time.perf_counter()

    def save(path: Path, step: int) -> None:
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}
        if scheduler is not None:
            state["scheduler"] = scheduler.state_dict()
        torch.save(state, path)

    best, steps = float("inf"), 0
    model.train()
    for step, (x, y) in enumerate(batches, start=1):
        optimizer.zero_grad()
        loss, _ = model.loss_and_metrics(x, y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        steps = step
        if has_val and (step % val_every == 0 or step == max_steps):
            model.eval()
            with torch.inference_mode():
                val_loss = float(model.loss_and_metrics(*data["val"])[0])
            model.train()
            if val_loss < best:
                best = val_loss
                save(best_path, step)
            save(last_path, step)
    if not has_val:  # no validation: the final weights are the ones tested
        save(best_path, steps)
        save(last_path, steps)
    fit_seconds = time.perf_counter() - start

    model.load_state_dict(torch.load(best_path, weights_only=True)["model"])
    model.eval()
    with torch.inference_mode():
        test_loss, metrics = model.loss_and_metrics(*data["test"])
    result = {f"test/{k}": float(v) for k, v in {"loss": test_loss, **metrics}.items()}
    result.update({"train/steps": steps, "time/fit_seconds": round(fit_seconds, 3)})
    if has_val:
        result["val/best"] = best
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True, help="JSON from bench.plain_spec()")
    parser.add_argument("--out", type=Path, required=True, help="result JSON; checkpoints beside")
    args = parser.parse_args()
    result = run(json.loads(args.spec), args.out.parent)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
