"""The leanest eager loops written for comparison: the floor bench/engine.py and bench/sweep.py measure the engine
against, in the same run. Not the engine: no divergence guard, no stopping, no schedules, Adam only.

`lean_single` trains one model as the notebook's epoch does (one Adam step, then the train and test accuracy and
test loss), with every tensor allocated once, activations in place and torch's fused Adam step (one kernel; it
rounds differently from the per-parameter step torch uses by default). `lean_stack` trains K models (2-D inputs
shared) in chunks with batched matmuls, the same way. `tanh` is "torch" or "numpy" (numpy's float32 tanh, in
place on the tensor's memory).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

aten = torch.ops.aten


def _numpy_tanh_(x: torch.Tensor) -> torch.Tensor:
    array = x.numpy()
    np.tanh(array, out=array)
    return x


ACTIVATE = {"relu": (torch.relu_, lambda g, y: aten.threshold_backward.grad_input(g, y, 0, grad_input=g)),
            "tanh": (torch.tanh_, lambda g, y: aten.tanh_backward.grad_input(g, y, grad_input=g))}


def _adam(flat: torch.Tensor, lr: float):
    state = [torch.zeros_like(flat), torch.zeros_like(flat), torch.zeros(())]

    def step() -> None:
        state[2].add_(1)  # the kernel takes the step count already advanced, as torch.optim.Adam(fused=True) does
        torch._fused_adam_([flat], [flat.grad], [state[0]], [state[1]], [], [state[2]], lr=lr, beta1=0.9,
                           beta2=0.999, weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False)

    return step


def lean_single(linears, activation: str, x, t, x_test, t_test, epochs: int, lr: float = 5e-3, tanh: str = "torch"):
    """Per epoch: loss, train accuracy (after the step), test accuracy, test loss; (4, epochs) on the host."""
    params = [p for layer in linears for p in (layer.weight, layer.bias)]
    flat = torch.cat([p.detach().reshape(-1) for p in params])
    flat.grad = torch.zeros_like(flat)
    sizes = [p.numel() for p in params]
    values, grads = torch.split(flat, sizes), torch.split(flat.grad, sizes)
    weights = [values[i].view(params[i].shape) for i in range(0, len(params), 2)]
    weight_grads = [grads[i].view(params[i].shape) for i in range(0, len(params), 2)]
    biases, bias_grads = values[1::2], grads[1::2]
    act, act_backward = ACTIVATE[activation]
    if activation == "tanh" and tanh == "numpy":
        act = _numpy_tanh_
    n = x.shape[0]
    train_out = [torch.empty(n, w.shape[0]) for w in weights]
    test_out = [torch.empty(x_test.shape[0], w.shape[0]) for w in weights]
    g_in = [torch.empty(n, w.shape[1]) for w in weights]
    probability, g_out = torch.empty(n, 1), torch.empty(n, 1)
    test_probability = torch.empty(x_test.shape[0], 1)
    truth, test_truth = t >= 0.5, t_test >= 0.5
    step = _adam(flat, lr)
    record = torch.empty(4, epochs)

    def forward(h, outs):
        for index, (weight, bias) in enumerate(zip(weights, biases)):
            torch.addmm(bias, h, weight.t(), out=outs[index])
            h = outs[index] if index == len(weights) - 1 else act(outs[index])
        return h

    with torch.no_grad():
        logits = forward(x, train_out)
        for epoch in range(epochs):
            record[0, epoch] = F.binary_cross_entropy_with_logits(logits, t)
            torch.sigmoid(logits, out=probability)
            g = torch.sub(probability, t, out=g_out).div_(n)
            for index in range(len(weights) - 1, -1, -1):
                layer_input = x if index == 0 else train_out[index - 1]
                torch.mm(g.t(), layer_input, out=weight_grads[index])
                torch.sum(g, 0, out=bias_grads[index])
                if index:
                    g = act_backward(torch.mm(g, weights[index], out=g_in[index]), train_out[index - 1])
            step()
            logits = forward(x, train_out)  # the train accuracy after the step, and the next epoch's forward
            record[1, epoch] = ((torch.sigmoid(logits, out=probability) >= 0.5) == truth).sum()
            test_logits = forward(x_test, test_out)
            record[2, epoch] = ((torch.sigmoid(test_logits, out=test_probability) >= 0.5) == test_truth).sum()
            record[3, epoch] = F.binary_cross_entropy_with_logits(test_logits, t_test)
    record[1] /= n
    record[2] /= x_test.shape[0]
    return record.numpy()


def lean_stack(flat: torch.Tensor, hidden, activation: str, x, t, x_test, t_test, epochs: int, lr: float = 5e-3,
               chunk: int = 16, tanh: str = "torch") -> np.ndarray:
    """K models of one shape (rows of `flat`, FlatMLP's order), `chunk` at a time; (4, K, epochs) on the host."""
    act, act_backward = ACTIVATE[activation]
    if activation == "tanh" and tanh == "numpy":
        act = _numpy_tanh_
    parts = []
    for start in range(0, flat.shape[0], chunk):
        parts.append(_lean_chunk(flat[start:start + chunk].clone(), hidden, act, act_backward, x.t().contiguous(),
                                 t.reshape(1, 1, -1), x_test.t().contiguous(), t_test.reshape(1, 1, -1), epochs, lr))
    return np.concatenate(parts, axis=1)


def _lean_chunk(flat, hidden, act, act_backward, x, t, x_test, t_test, epochs, lr):
    k, n, n_test = flat.shape[0], x.shape[1], x_test.shape[1]
    flat.grad = torch.zeros_like(flat)
    widths = (x.shape[0],) + tuple(hidden) + (1,)
    weights, biases, weight_grads, bias_grads, offset = [], [], [], [], 0
    for width, size in zip(widths, widths[1:]):
        for target, grads, shape in ((weights, weight_grads, (k, size, width)), (biases, bias_grads, (k, size, 1))):
            count = shape[1] * shape[2]
            target.append(flat[:, offset:offset + count].view(shape))
            grads.append(flat.grad[:, offset:offset + count].view(shape))
            offset += count
    train_out = [torch.empty(k, size, n) for size in widths[1:]]
    test_out = [torch.empty(k, size, n_test) for size in widths[1:]]
    g_in = [torch.empty(k, width, n) for width in widths[:-1]]
    weight_buffers = [torch.empty(w.shape) for w in weights]
    probability, g_out, test_probability = torch.empty(k, 1, n), torch.empty(k, 1, n), torch.empty(k, 1, n_test)
    truth, test_truth, targets, test_targets = t >= 0.5, t_test >= 0.5, t.expand(k, 1, n), t_test.expand(k, 1, n_test)
    step = _adam(flat, lr)
    record = torch.empty(4, k, epochs)

    def forward(h, outs):
        for index, (weight, bias) in enumerate(zip(weights, biases)):
            if index == 0:
                torch.mm(weight.reshape(-1, weight.shape[2]), h, out=outs[0].view(-1, h.shape[1]))
            else:
                torch.bmm(weight, h, out=outs[index])
            outs[index].add_(bias)
            h = outs[index] if index == len(weights) - 1 else act(outs[index])
        return h

    with torch.no_grad():
        logits = forward(x, train_out)
        for epoch in range(epochs):
            record[0, :, epoch] = F.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean(-1)[:, 0]
            torch.sigmoid(logits, out=probability)
            g = torch.sub(probability, t, out=g_out).div_(n)
            for index in range(len(weights) - 1, -1, -1):
                if index == 0:
                    torch.mm(g.reshape(-1, n), x.t(), out=weight_buffers[0].view(-1, x.shape[0]))
                else:
                    torch.bmm(g, train_out[index - 1].transpose(1, 2), out=weight_buffers[index])
                weight_grads[index].copy_(weight_buffers[index])
                torch.sum(g, -1, keepdim=True, out=bias_grads[index])
                if index:
                    g = act_backward(torch.bmm(weights[index].transpose(1, 2), g, out=g_in[index]),
                                     train_out[index - 1])
            step()
            logits = forward(x, train_out)
            record[1, :, epoch] = ((torch.sigmoid(logits, out=probability) >= 0.5) == truth).sum(-1)[:, 0]
            test_logits = forward(x_test, test_out)
            test_right = (torch.sigmoid(test_logits, out=test_probability) >= 0.5) == test_truth
            record[2, :, epoch] = test_right.sum(-1)[:, 0]
            record[3, :, epoch] = F.binary_cross_entropy_with_logits(test_logits, test_targets,
                                                                     reduction="none").mean(-1)[:, 0]
    record[1] /= n
    record[2] /= n_test
    return record.numpy()
