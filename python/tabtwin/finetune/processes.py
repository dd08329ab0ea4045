"""Where training runs: the device, and this process's place among several under `accelerate launch`
(several GPUs, or several CPU processes), which share out each optimizer step's micro-batches and sum
their gradients, so N processes compute the same steps as one."""

from __future__ import annotations

import os
from dataclasses import dataclass

from tabtwin.errors import TabtwinError


@dataclass
class Processes:
    """This process's place under `accelerate launch` (rank 0 of 1 in a plain run)."""

    rank: int = 0
    world: int = 1
    device: str = "cpu"

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sum(self, tensor):
        """`tensor` summed over the processes (accelerate's all-reduce)."""
        if self.world == 1:
            return tensor
        from accelerate.utils import reduce

        return reduce(tensor, reduction="sum")


def processes(wanted_device: str) -> Processes:
    device = pick_device(wanted_device)
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Processes(device=device)
    from accelerate import PartialState  # set up by `accelerate launch` (gloo on CPU, nccl on GPUs)

    state = PartialState(cpu=device == "cpu")
    return Processes(state.process_index, state.num_processes, str(state.device))


def sum_gradients(model, procs: Processes, step_loss: float) -> float:
    """Add up the processes' gradients (each computed its share of the step's micro-batches;
    a process with none contributes zeros) and their losses, in one all-reduce."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    flat = torch.cat(
        [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params]
        + [torch.tensor([step_loss], dtype=params[0].dtype, device=params[0].device)]
    )
    flat = procs.sum(flat)
    offset = 0
    for p in params:
        p.grad = flat[offset : offset + p.numel()].view_as(p).clone()
        offset += p.numel()
    return float(flat[-1])


def pick_device(wanted: str) -> str:
    import torch

    if wanted == "cuda" and not torch.cuda.is_available():
        raise TabtwinError("[train] device = 'cuda' but torch sees no CUDA GPU; use 'auto' or 'cpu'")
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return wanted
