"""Growing a trained model into a larger one that starts as the same function, so a larger
body inherits the CPU hours already spent (docs/model_quality.md, lever 8): new conditioning
columns start at zero weight, and new blocks are copies of a trained neighbour whose output
projections are zero (a pre-norm residual block with zero output is the identity)."""

from __future__ import annotations

import torch

BLOCKS = "body.blocks."
# The projections that write into the residual stream: zero in a new block.
RESIDUAL_OUTPUTS = ("attn.out.weight", "mlp.down.weight", "mlp.down.bias")


def widen_columns(
    weight: torch.Tensor, names: tuple[str, ...], new_names: tuple[str, ...]
) -> torch.Tensor:
    """An input projection [D, len(names)] laid out for `new_names`: each old column moved to
    its name's place, new columns zero (so the new inputs start with no effect)."""
    out = weight.new_zeros(weight.shape[0], len(new_names))
    for i, name in enumerate(names):
        out[:, new_names.index(name)] = weight[:, i]
    return out


def deepened_order(old: int, new: int) -> list[tuple[int, bool]]:
    """For each of `new` blocks, the old block it starts from and whether it is a new copy:
    the added blocks spread evenly, each after the old block it copies."""
    if not 0 < old <= new:
        raise ValueError(f"cannot grow {old} blocks into {new}")
    after = [((j + 1) * old - 1) // (new - old) for j in range(new - old)]
    order: list[tuple[int, bool]] = []
    for i in range(old):
        order.append((i, False))
        order.extend((i, True) for a in after if a == i)
    return order


def deepen(state: dict[str, torch.Tensor], old: int, new: int) -> dict[str, torch.Tensor]:
    """A model state of `old` blocks -> one of `new` blocks computing the same function."""
    blocks: dict[int, dict[str, torch.Tensor]] = {i: {} for i in range(old)}
    out = {}
    for key, value in state.items():
        if key.startswith(BLOCKS):
            index, rest = key[len(BLOCKS) :].split(".", 1)
            blocks[int(index)][rest] = value
        else:
            out[key] = value
    for j, (i, copy) in enumerate(deepened_order(old, new)):
        for rest, value in blocks[i].items():
            grown = value.clone()
            if copy and rest in RESIDUAL_OUTPUTS:
                grown.zero_()
            out[f"{BLOCKS}{j}.{rest}"] = grown
    return out
