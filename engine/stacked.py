"""Many models of one shape as one stacked network: each model's weights in a row of one tensor, one batched
matmul per layer, activations laid out (models, width, points). Each model starts from exactly the weights the
single-model engine gives for its seed (`StackedMLP.from_seeds`). Models in one stack may differ in `seed`, `lr`
and `reg_rate` (`PER_MODEL`); `stack_key` says which settings can share a stack, `can_stack` which can stack at
all (not dropout or mini-batches: each model would draw its own random numbers).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from . import fast_math
from .network import ACTIVATIONS, HALF, IN_PLACE, build_model
from .settings import SPECS, Settings

DATA_KEYS = tuple(name for name, spec in SPECS.items() if spec.part == "data")
PER_MODEL = ("seed", "lr", "reg_rate")  # what may differ between the models of one stack (besides the threads)
# What a stack shares: the data, the network and the training settings but PER_MODEL.
SHARED_KEYS = tuple(name for name in SPECS if name not in PER_MODEL and name != "threads")


def data_key(settings: Settings) -> tuple:
    return (tuple(getattr(settings, name) for name in DATA_KEYS), settings.features)


def can_stack(settings: Settings, train_size: int | None = None) -> bool:
    """Whether the stacked path trains these settings (no dropout, full batches)."""
    if settings.dropout:
        return False
    if settings.batch_size == 0:
        return True
    return train_size is not None and settings.batch_size >= train_size


def stack_key(settings: Settings) -> tuple:
    """Models with equal keys can train in one stack (when `can_stack`)."""
    return tuple(getattr(settings, name) for name in SHARED_KEYS)


# ----- the stacked network -----
class StackedMLP:
    """K MLPs of one shape: every model's weights and biases (as FlatMLP orders them) in a row of `flat` (K, P).
    Inputs are laid out (features, n) and targets (1, 1, n); logits come out (K, 1, n)."""

    dropout = 0.0  # stacks do not drop out (`can_stack`)

    def __init__(self, flat: torch.Tensor, inputs: int, hidden: Sequence[int], activation: str) -> None:
        self.inputs, self.hidden, self.activation = inputs, tuple(hidden), activation
        _, self._act, self._act_backward = ACTIVATIONS[activation]
        self._act_, self._act_backward_ = IN_PLACE.get(activation, (None, None))
        if activation in fast_math.CANDIDATES:  # torch's tanh or numpy's, whichever is faster here
            self._act_ = fast_math.in_place(activation, flat)
        self._buffers: dict[tuple, torch.Tensor | list] = {}
        self.flat = flat
        if flat.grad is None:
            flat.grad = torch.zeros_like(flat)
        self.weights, self.biases, self.weight_grads, self.bias_grads = [], [], [], []
        k = flat.shape[0]
        offset, width = 0, inputs
        for size in self.hidden + (1,):
            for target, grads, shape in ((self.weights, self.weight_grads, (k, size, width)),
                                         (self.biases, self.bias_grads, (k, size, 1))):
                count = shape[1] * shape[2]
                target.append(flat[:, offset:offset + count].view(shape))
                grads.append(flat.grad[:, offset:offset + count].view(shape))
                offset += count
            width = size
        if offset != flat.shape[1]:
            raise ValueError(
                f"{flat.shape[1]} weights per model do not make a {inputs}-{'-'.join(map(str, hidden))}-1 net"
            )

    @classmethod
    def from_seeds(cls, settings: Sequence[Settings], device: torch.device) -> StackedMLP:
        """Each model built as the single-model engine builds it: torch.manual_seed(seed), then build_model."""
        first = settings[0]
        rows = []
        for s in settings:
            torch.manual_seed(s.seed)
            model = build_model(len(s.features), s.hidden, s.activation, s.dropout)
            linears = [layer for layer in model if isinstance(layer, torch.nn.Linear)]
            rows.append(torch.cat([p.detach().reshape(-1) for layer in linears for p in (layer.weight, layer.bias)]))
        return cls(torch.stack(rows).to(device), len(first.features), first.hidden, first.activation)

    @property
    def models(self) -> int:
        return self.flat.shape[0]

    def select(self, index: torch.Tensor) -> StackedMLP:
        """The stack of the models at rows `index` only (a copy)."""
        return StackedMLP(self.flat.detach().index_select(0, index), self.inputs, self.hidden, self.activation)

    @staticmethod
    def losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Each model's mean BCE with logits: (K, 1)."""
        return F.binary_cross_entropy_with_logits(logits, targets.expand_as(logits), reduction="none").mean(-1)

    @staticmethod
    def correct(probability: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
        """Per model, how many points the 0.5 threshold classifies right: (K, 1)."""
        return torch.count_nonzero(torch.ge(probability, HALF) == truth, dim=-1)

    def forward(self, inputs_t: torch.Tensor, train: bool = False, into: str | None = None
                ) -> tuple[torch.Tensor, list]:
        """Logits (K, 1, n) from inputs laid out (features, n), shared by all models, or (K, features, n).
        With `into`, into buffers kept under that name (as `FlatMLP.forward`). ReLU, tanh and sigmoid are applied in
        place, tanh and sigmoid by the faster routine on this machine (`engine.fast_math`)."""
        buffers = self._buffers_for(into, inputs_t.shape[-1]) if into is not None else None
        saved = []
        h = inputs_t
        last = len(self.weights) - 1
        k = self.models
        for index, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            out = buffers[index] if buffers is not None else None
            if h.dim() == 2:  # inputs shared by all models: one (K*out, in) x (in, n) matmul
                rows = k * weight.shape[1]
                pre = torch.mm(weight.reshape(rows, weight.shape[2]), h,
                               out=None if out is None else out.view(rows, -1)).view(k, weight.shape[1], -1)
            else:
                pre = torch.bmm(weight, h, out=out)
            pre.add_(bias)  # cheaper than baddbmm, which first copies the expanded bias
            if index == last:
                saved.append((h, None, None))
                return pre, saved
            post = self._act_(pre) if self._act_ is not None else self._act(pre)  # pre is ours: fresh or a buffer
            saved.append((h, None if post is pre else pre, post))
            h = post
        raise AssertionError("unreachable")

    def backward(self, logit_grad: torch.Tensor, saved: list) -> None:
        """d(loss)/d(weights) into flat.grad, from the gradient (K, 1, n) at the logits."""
        g = logit_grad
        for index in range(len(self.weights) - 1, -1, -1):
            layer_input = saved[index][0]
            # Into a buffer of its own, then copied: each model's numbers do not depend on where its row lies.
            grad = self._buffer(("weight", index), self.weight_grads[index].shape)
            if layer_input.dim() == 2:  # shared inputs (features, n): one (K*out, n) x (n, features) matmul
                k, out = g.shape[0], g.shape[1]
                torch.mm(g.reshape(k * out, -1), layer_input.t(), out=grad.view(k * out, -1))
            else:
                torch.bmm(g, layer_input.transpose(1, 2), out=grad)
            self.weight_grads[index].copy_(grad)
            torch.sum(g, -1, keepdim=True, out=self.bias_grads[index])
            if index == 0:
                return
            weight = self.weights[index]
            g = torch.bmm(weight.transpose(1, 2), g, out=self._buffer(("input", index),
                                                                       (g.shape[0], weight.shape[2], g.shape[2])))
            _, pre, post = saved[index - 1]
            g = self._act_backward_(g, post) if self._act_backward_ is not None else self._act_backward(g, pre, post)

    def release(self) -> None:
        """Let go of the buffers (until the next pass needs them)."""
        self._buffers = {}

    def _buffers_for(self, name: str, points: int) -> list[torch.Tensor]:
        """The per-layer outputs (K, width, points) kept under `name`."""
        key = (name, points)
        if key not in self._buffers:
            self._buffers[key] = [self._buffer((name, points, index), (self.models, weight.shape[1], points))
                                  for index, weight in enumerate(self.weights)]
        return self._buffers[key]

    def _buffer(self, key: tuple, shape) -> torch.Tensor:
        buffer = self._buffers.get(key)
        if buffer is None or buffer.shape != shape:
            buffer = self._buffers[key] = torch.empty(shape, dtype=self.flat.dtype, device=self.flat.device)
        return buffer

    @torch.no_grad()
    def logits(self, inputs: torch.Tensor, elements: int = 4_000_000) -> torch.Tensor:
        """(K, n) logits of every model at inputs (n, features), a few models at a time (bounded memory)."""
        inputs_t = inputs.t()
        chunk = max(1, elements // (inputs.shape[0] * max(self.hidden + (1,))))
        parts = []
        for start in range(0, self.models, chunk):
            part = StackedMLP(
                self.flat[start : start + chunk].detach().clone(), self.inputs, self.hidden, self.activation
            )
            parts.append(part.forward(inputs_t)[0][:, 0, :])
        return torch.cat(parts)
