"""Train one icon snapshot on a GPU machine that has nothing but torch: `python -m training.icons.gpu PACK OUT NAME
--start START --real SHARE --lr LR --seed SEED --seconds S` (PACK from `python -m training.icons pack`).

The data sit on the GPU. Each step draws its batch from (seed, step) as fit.py does, so the same seeds repeat a run
(up to the order in which parallel kernels sum); real crops are moved, scaled, recoloured and inverted a little (a
harvest has far fewer looks than the synthetic set). With `--same-app` a step's real crops all come from one
application, its unnamed background among them, so each name must pick its control out of controls drawn in the
same style, as it must among the regions of one screen at run time. The run's length follows the machine's speed:
after a short timing, the steps that fit in `seconds` become the schedule's length (printed; `--steps` fixes it
instead), and checkpoints are saved at each quarter of it under OUT as NAME-<step>.pt (no optimiser: they are for
export)."""

from __future__ import annotations

import argparse
import json
import lzma
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .net import BATCH, DIM, EXTRA_NEGATIVES, WORD_DIM, encoder, learning_rate, train_step

INPUT = 32
TIMING = (50, 250)  # steps timed, once every process sharing the GPU is running


def _read(pack: Path, name: str, dtype: torch.dtype, device: str) -> torch.Tensor:
    return torch.frombuffer(bytearray(lzma.decompress((pack / f"{name}.xz").read_bytes())), dtype=dtype).to(device)


def normalise(crops: torch.Tensor) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float [N, 3, H, W] centred and scaled per crop, as grounding.icons.crops.normalise."""
    x = crops.float().permute(0, 3, 1, 2)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    std = x.std(dim=(1, 2, 3), keepdim=True, unbiased=False)
    return (x - mean) / (std + 8.0)


def vary(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Normalised real crops shifted and scaled a little (the proposal's box is never exact), their colour channels
    shuffled and a quarter of them inverted (dark themes)."""
    n = len(x)

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator, device=x.device)

    scale, dx, dy = uniform(0.85, 1.2), uniform(-0.08, 0.08), uniform(-0.08, 0.08)
    theta = torch.zeros(n, 2, 3, device=x.device)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, 0, 2], theta[:, 1, 2] = scale, scale, dx, dy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
    order = torch.argsort(torch.rand(n, 3, generator=generator, device=x.device), dim=1)
    x = torch.gather(x, 1, order[:, :, None, None].expand_as(x))
    sign = torch.where(torch.rand(n, generator=generator, device=x.device) < 0.25, -1.0, 1.0)
    return x * sign[:, None, None, None]


class _ByApp:
    """Real crops grouped by application: `draw` picks one application (each as likely as its share of the crops)
    and that many of its crops."""

    def __init__(self, app: torch.Tensor) -> None:
        self.order = torch.argsort(app, stable=True)
        self.count = torch.bincount(app)
        self.start = torch.cumsum(self.count, 0) - self.count

    def draw(self, n: int, generator: torch.Generator) -> torch.Tensor:
        device = self.order.device
        one = torch.randint(len(self.order), (1,), generator=generator, device=device)
        app = int(torch.searchsorted(self.start, one, right=True)[0]) - 1
        offsets = torch.randint(int(self.count[app]), (n,), generator=generator, device=device)
        return self.order[self.start[app] + offsets]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m training.icons.gpu", description=__doc__.split("\n")[0])
    parser.add_argument("pack", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("name")
    parser.add_argument("--start", required=True, help="a start state in PACK (e.g. start-3)")
    parser.add_argument("--real", type=float, default=0.5, help="share of each batch from the real crops")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, required=True, help="training time, timing included")
    parser.add_argument("--steps", type=int, help="the schedule's length (else as many as fit in --seconds)")
    parser.add_argument("--same-app", action="store_true", help="draw each step's real crops from one application")
    args = parser.parse_args()
    clock = time.perf_counter()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(args.seed)
    torch.backends.cudnn.benchmark = True
    meta = json.loads((args.pack / "meta.json").read_text())
    syn = _read(args.pack, "syn", torch.uint8, device).view(-1, INPUT, INPUT, 3)
    syn_label = _read(args.pack, "syn_label", torch.int32, device).long()
    real = _read(args.pack, "real", torch.uint8, device).view(-1, INPUT, INPUT, 3)
    real_label = _read(args.pack, "real_label", torch.int32, device).long()
    by_app = _ByApp(_read(args.pack, "real_app", torch.int32, device).long()) if args.same_app else None
    text_in = _read(args.pack, "text", torch.float16, device).float().view(meta["labels"], WORD_DIM)
    state = torch.load(args.pack / f"{args.start}.pt", weights_only=False, map_location=device)
    image_net = encoder().to(device)
    image_net.load_state_dict(state["image"])
    projection = nn.Linear(WORD_DIM, DIM, bias=False).to(device)
    projection.load_state_dict(state["projection"])
    background = nn.Parameter(state["background"].detach().clone().to(device))
    log_scale = nn.Parameter(state["log_scale"].detach().clone().to(device))
    frozen = bool(state.get("frozen_norm", False))
    params = [*image_net.parameters(), *projection.parameters(), background, log_scale]
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    real_batch = round(BATCH * args.real)
    print(f"{args.name}: {len(syn)} synthetic, {len(real)} real crops, {len(text_in)} names on {device}; "
          f"loaded in {time.perf_counter() - clock:.0f} s", flush=True)
    total, step, saves = args.steps or 10**9, 0, set()
    timing = None

    def save(step: int) -> None:
        args.out.mkdir(parents=True, exist_ok=True)
        torch.save({"image": {k: v.cpu() for k, v in image_net.state_dict().items()},
                    "projection": {k: v.cpu() for k, v in projection.state_dict().items()},
                    "background": background.detach().cpu(), "log_scale": log_scale.detach().cpu(),
                    "frozen_norm": frozen, "step": step, "total": total, "seed": args.seed, "lr": args.lr,
                    "real": args.real, "start": args.start}, args.out / f"{args.name}-{step}.pt")

    while step < total:
        if step == TIMING[0]:
            timing = time.perf_counter()
        if step == TIMING[1] and args.steps is None:
            rate = (TIMING[1] - TIMING[0]) / (time.perf_counter() - timing)
            total = step + int(0.9 * rate * (args.seconds - (time.perf_counter() - clock)))
            saves = {total * k // 4 for k in (1, 2, 3, 4)}
            print(f"{args.name}: {rate:.1f} steps/s, schedule {total} steps", flush=True)
        elif args.steps is not None:
            saves = {total * k // 4 for k in (1, 2, 3, 4)}
        if time.perf_counter() - clock > args.seconds + 20:  # the machine slowed down: keep what was learnt
            break
        for group in optimiser.param_groups:
            group["lr"] = learning_rate(step, total if total < 10**9 else 10**5, args.lr)
        generator = torch.Generator(device=device).manual_seed(args.seed * 1_000_003 + step)
        picked = torch.randint(len(syn), (BATCH - real_batch,), generator=generator, device=device)
        if by_app is None:
            picked_real = torch.randint(len(real), (real_batch,), generator=generator, device=device)
        else:
            picked_real = by_app.draw(real_batch, generator)
        x = normalise(syn[picked])
        if real_batch:
            x = torch.cat([x, vary(normalise(real[picked_real]), generator)])
        y = torch.cat([syn_label[picked], real_label[picked_real]])
        present = torch.unique(y[y >= 0])
        extra = torch.randint(len(text_in), (EXTRA_NEGATIVES,), generator=generator, device=device)
        columns = torch.cat([present, extra[~torch.isin(extra, present)]])
        target = torch.where(y >= 0, torch.searchsorted(present, y.clamp(min=0)), len(columns))
        loss, logits = train_step(image_net, projection, background, log_scale, optimiser, x, text_in[columns], target,
                                  len(present), frozen)
        step += 1
        if step % 500 == 0:
            accuracy = (logits.argmax(1) == target).float().mean().item()
            print(f"{args.name} step {step} {time.perf_counter() - clock:.0f}s loss {loss.item():.3f} "
                  f"batch-acc {accuracy:.2f}", flush=True)
        if step in saves:
            save(step)
    if step not in saves:
        save(step)
    print(f"{args.name}: {step} steps in {time.perf_counter() - clock:.0f} s, last loss {loss.item():.3f}", flush=True)


if __name__ == "__main__":
    main()
