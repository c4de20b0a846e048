"""The MLP: built as a plain `torch.nn.Sequential`, trained through a flat copy of its weights.

`build_model` makes the model exactly as a user would in PyTorch, so `torch.manual_seed(s)` followed by it gives
the same initial weights as the same code written by hand. Training does not go through autograd: for networks
this small, over 90 % of an autograd step is framework overhead. `FlatMLP` keeps every weight and bias as a view
of one flat tensor, runs the forward pass into reused buffers and calls the very backward kernels autograd would
call, in the same order, so its gradients are bit-for-bit those of `loss.backward()`; one optimizer step over
the flat tensor then does the work of one step per parameter.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

aten = torch.ops.aten
# 0.5 as a tensor: a comparison with a Python float first makes it one, ~5 us a call (the same numbers)
HALF = torch.tensor(0.5)
MEAN = 1  # torch's reduction code for "mean" (torch.nn._reduction.get_enum)

# name -> (module class, forward on a pre-activation, backward(grad, pre, post) as autograd computes it)
Activation = tuple[type[torch.nn.Module], Callable, Callable]
ACTIVATIONS: dict[str, Activation] = {
    "relu": (torch.nn.ReLU, torch.relu, lambda g, pre, post: aten.threshold_backward(g, post, 0)),
    "tanh": (torch.nn.Tanh, torch.tanh, lambda g, pre, post: aten.tanh_backward(g, post)),
    "sigmoid": (torch.nn.Sigmoid, torch.sigmoid, lambda g, pre, post: aten.sigmoid_backward(g, post)),
    "elu": (torch.nn.ELU, F.elu, lambda g, pre, post: aten.elu_backward(g, 1.0, 1, 1, False, pre)),
    "leaky_relu": (
        torch.nn.LeakyReLU,
        F.leaky_relu,
        lambda g, pre, post: aten.leaky_relu_backward(g, pre, 0.01, False),
    ),
    "gelu": (torch.nn.GELU, F.gelu, lambda g, pre, post: aten.gelu_backward(g, pre)),
    "silu": (torch.nn.SiLU, F.silu, lambda g, pre, post: aten.silu_backward(g, pre)),
    "softplus": (torch.nn.Softplus, F.softplus, lambda g, pre, post: aten.softplus_backward(g, pre, 1, 20)),
    "linear": (torch.nn.Identity, lambda pre: pre, lambda g, pre, post: g),
}
# Activations whose backward needs only their output, in place: name -> (forward in place, backward(grad, post)
# into grad). The same kernels as above, so the same numbers.
IN_PLACE: dict[str, tuple[Callable, Callable]] = {
    "relu": (torch.relu_, lambda g, post: aten.threshold_backward.grad_input(g, post, 0, grad_input=g)),
    "tanh": (torch.tanh_, lambda g, post: aten.tanh_backward.grad_input(g, post, grad_input=g)),
    "sigmoid": (torch.sigmoid_, lambda g, post: aten.sigmoid_backward.grad_input(g, post, grad_input=g)),
}


def build_model(inputs: int, hidden: tuple[int, ...], activation: str, dropout: float = 0.0) -> torch.nn.Sequential:
    """Linear -> activation [-> Dropout] for each hidden layer, then Linear(., 1) giving one logit."""
    module = ACTIVATIONS[activation][0]
    layers: list[torch.nn.Module] = []
    width = inputs
    for size in hidden:
        layers += [torch.nn.Linear(width, size), module()]
        if dropout:
            layers.append(torch.nn.Dropout(dropout))
        width = size
    layers.append(torch.nn.Linear(width, 1))
    return torch.nn.Sequential(*layers)


class FlatMLP:
    """The weights of an MLP as views of one flat tensor, with a forward and a hand-called backward pass: a stack
    of one model for `engine.loop` (inputs laid out (n, features), logits (n, 1))."""

    models = 1

    def __init__(self, model: torch.nn.Sequential, activation: str, dropout: float = 0.0) -> None:
        linears = [layer for layer in model if isinstance(layer, torch.nn.Linear)]
        params = [p for layer in linears for p in (layer.weight, layer.bias)]
        self.flat = torch.cat([p.detach().reshape(-1) for p in params])
        self.flat.grad = torch.zeros_like(self.flat)
        values = torch.split(self.flat, [p.numel() for p in params])
        grads = torch.split(self.flat.grad, [p.numel() for p in params])
        shapes = [p.shape for p in params]
        self.weights = [values[i].view(shapes[i]) for i in range(0, len(params), 2)]
        self.biases = list(values[1::2])
        self.weight_grads = [grads[i].view(shapes[i]) for i in range(0, len(params), 2)]
        self.bias_grads = list(grads[1::2])
        self._weights_t = [weight.t() for weight in self.weights]  # as nn.Linear passes them to addmm
        _, self._act, self._act_backward = ACTIVATIONS[activation]
        self._act_, self._act_backward_ = IN_PLACE.get(activation, (None, None))
        self._buffers: dict[tuple, object] = {}
        self.dropout = dropout
        self.generator: torch.Generator | None = None  # for dropout masks; None means torch's global one
        self.layer_count = len(self.weights)

    def forward(self, inputs: torch.Tensor, train: bool = False, into: str | None = None) -> tuple[torch.Tensor, list]:
        """Logits (n, 1) and, per hidden layer, what the backward pass needs: (input, pre, post, dropout mask).

        With `into` (a name), the results are written into buffers kept under that name and its row count, valid
        until the next pass into them: no fresh memory per epoch, and ReLU, tanh and sigmoid applied in place (their
        backward needs only the output). The numbers are the same: the same kernels, another destination."""
        buffers = self._buffers_for(into, inputs.shape[0]) if into is not None else None
        saved = []
        h = inputs
        for index, (weight_t, bias) in enumerate(zip(self._weights_t, self.biases)):
            layer_input = h
            if buffers is None:
                pre = torch.addmm(bias, h, weight_t)
            else:
                pre = torch.addmm(bias, h, weight_t, out=buffers[index])
            if index == self.layer_count - 1:
                saved.append((layer_input, None, None, None))
                return pre, saved
            post = self._act_(pre) if buffers is not None and self._act_ is not None else self._act(pre)
            mask = None
            h = post
            if train and self.dropout:
                # As torch's dropout on CPU: keep with probability 1-p, scale kept values by 1/(1-p).
                mask = (
                    torch.empty_like(post).bernoulli_(1 - self.dropout, generator=self.generator).div_(1 - self.dropout)
                )
                h = post * mask
            saved.append((layer_input, None if post is pre else pre, post, mask))
        raise AssertionError("unreachable: the last layer returns")

    def backward(self, logit_grad: torch.Tensor, saved: list) -> None:
        """Write d(loss)/d(weights) into `flat.grad` from the gradient at the logits (into reused buffers)."""
        g = logit_grad
        for index in range(self.layer_count - 1, -1, -1):
            layer_input = saved[index][0]
            # autograd's addmm backward for nn.Linear's weight (column-major W.t()) computes exactly this, into
            # a fresh tensor: writing straight into the flat buffer can round differently (alignment), so it goes
            # into a buffer of its own (allocated as a fresh tensor is) and is copied.
            grad = self._grad_buffer(("weight", index), self.weight_grads[index].shape)
            self.weight_grads[index].copy_(torch.mm(g.t(), layer_input, out=grad))
            torch.sum(g, 0, out=self.bias_grads[index])
            if index == 0:
                return
            g = torch.mm(g, self.weights[index], out=self._grad_buffer(("input", index), (g.shape[0],
                                                                                            self.weights[index].shape[1])))
            _, pre, post, mask = saved[index - 1]
            if mask is not None:
                g = g * mask
            g = self._act_backward_(g, post) if self._act_backward_ is not None else self._act_backward(g, pre, post)

    def _buffers_for(self, name: str, rows: int) -> list[torch.Tensor]:
        """The per-layer outputs kept under `name` for `rows` inputs."""
        key = (name, rows)
        buffers = self._buffers.get(key)
        if buffers is None:
            options = dict(dtype=self.flat.dtype, device=self.flat.device)
            buffers = [torch.empty(rows, weight.shape[0], **options) for weight in self.weights]
            self._buffers[key] = buffers
        return buffers

    def release(self) -> None:
        """Let go of the buffers (until the next pass needs them)."""
        self._buffers = {}

    def _grad_buffer(self, key: tuple, shape) -> torch.Tensor:
        buffer = self._buffers.get(key)
        if buffer is None or buffer.shape != shape:
            buffer = self._buffers[key] = torch.empty(shape, dtype=self.flat.dtype, device=self.flat.device)
        return buffer

    @staticmethod
    def losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean BCE with logits, as torch.nn.BCEWithLogitsLoss (a 0-d tensor): its kernel, called without the
        Python wrapper's checks (~4 us a call; the shapes are the loop's own)."""
        return torch.binary_cross_entropy_with_logits(logits, targets, None, None, MEAN)

    @staticmethod
    def correct(probability: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
        """How many points the 0.5 threshold classifies right (a 0-d tensor)."""
        return torch.count_nonzero(torch.ge(probability, HALF) == truth)

    def parameters(self) -> list[torch.Tensor]:
        return [p for pair in zip(self.weights, self.biases) for p in pair]

    def copy_to(self, model: torch.nn.Sequential) -> None:
        """Write the trained weights back into the `nn.Sequential` they came from."""
        linears = [layer for layer in model if isinstance(layer, torch.nn.Linear)]
        with torch.no_grad():
            for layer, weight, bias in zip(linears, self.weights, self.biases):
                layer.weight.copy_(weight)
                layer.bias.copy_(bias)
