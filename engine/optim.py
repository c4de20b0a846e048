"""torch's optimizers (Adam, AdamW, SGD with momentum, RMSprop) and rate schedules over stacked weights.

One implementation serves one model (K = 1) and stacks of K models (per-model learning rates as a (K,) factor). It
runs torch's single-tensor operations in the same order, so its numbers are torch's bit for bit, and its
`state_dict` has torch's layout. Not `torch.optim` itself: the first one a process builds imports torch._dynamo,
seconds of start-up (docs/performance.md). `RateSchedule` follows torch's StepLR and CosineAnnealingLR formulas.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

KINDS = ("adam", "adamw", "sgd", "rmsprop")

# torch's defaults (torch 2.13), in the order and with the keys of its param_groups, less "lr" and "params".
DEFAULTS = {
    "adam": {"betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0, "amsgrad": False, "maximize": False,
             "foreach": None, "capturable": False, "differentiable": False, "fused": None,
             "decoupled_weight_decay": False},
    "adamw": {"betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0.01, "amsgrad": False, "maximize": False,
              "foreach": None, "capturable": False, "differentiable": False, "fused": None,
              "decoupled_weight_decay": True},
    "sgd": {"momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": False, "maximize": False,
            "foreach": None, "differentiable": False, "fused": None},
    "rmsprop": {"momentum": 0, "alpha": 0.99, "eps": 1e-08, "centered": False, "weight_decay": 0,
                "capturable": False, "foreach": None, "maximize": False, "differentiable": False},
}


class StackedOptimizer:
    """One optimizer step over every parameter tensor given (each with its `.grad`), like torch's.

    `lr` is one rate, or one rate per model (a sequence of K values, the models along each tensor's first axis).
    `momentum` is SGD's (as `torch.optim.SGD(momentum=...)`); the other optimizers take torch's defaults.
    """

    def __init__(self, params: Sequence[torch.Tensor], kind: str, lr: float | Sequence[float], momentum: float = 0.0):
        if kind not in KINDS:
            raise ValueError(f"optimizer: {kind!r} is not one of {', '.join(KINDS)}")
        self.kind = kind
        self.params = list(params)
        group = {"lr": lr}
        group.update(DEFAULTS[kind])
        if kind == "sgd":
            group["momentum"] = momentum
        group["params"] = list(range(len(self.params)))
        self.param_groups = [group]
        self.state: dict[int, dict] = {}
        # The step counts as Python floats: no device sync to read them, and no tensor op per step to count them
        # (the state's "step" tensors are written by `state_dict`).
        self._steps: dict[int, float] = {}
        self._factors: dict = {}  # per-model rate tensors, by (rate tuple, parameter index)
        self._denominators: dict[int, torch.Tensor] = {}  # Adam's per-step denominator, reused
        self._constants: dict[tuple, torch.Tensor] = {}
        self._update = {"adam": self._adam, "adamw": self._adam, "sgd": self._sgd, "rmsprop": self._rmsprop}[kind]

    # ----- torch's interface -----
    def zero_grad(self) -> None:
        for param in self.params:
            if param.grad is not None:
                param.grad.zero_()

    def state_dict(self) -> dict:
        for index, count in self._steps.items():
            self.state[index]["step"] = torch.tensor(count)
        group = {key: (list(value) if key == "params" else value) for key, value in self.param_groups[0].items()}
        if not isinstance(group["lr"], (int, float)):
            group["lr"] = list(group["lr"])
        return {"state": {index: dict(entry) for index, entry in self.state.items()}, "param_groups": [group]}

    def load_state_dict(self, state_dict: dict) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != 1 or len(groups[0]["params"]) != len(self.params):
            raise ValueError("loaded state dict has a different number of parameters or parameter groups")
        saved_ids = list(groups[0]["params"])
        state = {}
        for position, saved_id in enumerate(saved_ids):
            entry = state_dict["state"].get(saved_id)
            if entry is None:
                continue
            param = self.params[position]
            loaded = {}
            for key, value in entry.items():
                if key == "step":
                    loaded[key] = (
                        value.detach().clone().to(torch.float32)
                        if isinstance(value, torch.Tensor)
                        else torch.tensor(float(value))
                    )
                elif isinstance(value, torch.Tensor):
                    if value.shape != param.shape:
                        raise ValueError(
                            f"state {key!r} has shape {tuple(value.shape)}, the parameter {tuple(param.shape)}"
                        )
                    loaded[key] = value.detach().to(dtype=param.dtype, device=param.device).clone()
                else:
                    loaded[key] = value
            state[position] = loaded
        group = {key: value for key, value in groups[0].items() if key != "params"}
        group["params"] = list(range(len(self.params)))
        if isinstance(group["lr"], list):
            group["lr"] = tuple(group["lr"])
        self.param_groups = [group]
        self.state = state
        self._steps = {index: float(entry["step"]) for index, entry in state.items() if "step" in entry}
        self._factors, self._denominators = {}, {}

    def select(self, keep: list[int], flat: torch.Tensor) -> StackedOptimizer:
        """The optimizer of the models at rows `keep` only, over `flat` (their weights: one tensor, models first)."""
        state = self.state_dict()
        index = torch.tensor(keep, device=flat.device)
        for entry in state["state"].values():
            for key, value in entry.items():
                if key != "step" and isinstance(value, torch.Tensor) and value.dim():
                    entry[key] = value.index_select(0, index)
        group = state["param_groups"][0]
        for name in ("lr", "initial_lr"):
            if isinstance(group.get(name), (list, tuple)):
                group[name] = one_or_each(group[name][p] for p in keep)
        selected = StackedOptimizer([flat], self.kind, group["lr"], group.get("momentum", 0.0))
        selected.load_state_dict(state)
        return selected

    # ----- the step -----
    def step(self) -> None:
        if torch.is_grad_enabled():  # the training loop runs without: no context to enter per step
            with torch.no_grad():
                return self.step()
        group = self.param_groups[0]
        lr = group["lr"]
        per_model = not isinstance(lr, (int, float))
        for index, param in enumerate(self.params):
            grad = param.grad
            if grad is None:
                continue
            self._update(group, index, param, grad, lr, self._rates(lr, index, param) if per_model else None)

    def _rates(self, lr, index: int, param: torch.Tensor) -> torch.Tensor:
        """The per-model rates as a float64 tensor shaped to broadcast over `param` (K, 1, ...)."""
        key = (tuple(lr), index)
        rates = self._factors.get(key)
        if rates is None:
            self._factors = {k: v for k, v in self._factors.items() if k[0] == key[0]}
            # float64 on the parameter's device: IEEE double arithmetic there gives the Python floats' results
            rates = torch.tensor(list(lr), dtype=torch.float64, device=param.device)
            rates = rates.reshape((-1,) + (1,) * (param.dim() - 1))
            self._factors[key] = rates
        return rates

    def _scale(self, rates: torch.Tensor, factor, param: torch.Tensor) -> torch.Tensor:
        """factor(rate) per model, computed in float64 as torch computes its Python-float scalars, then float32."""
        return factor(rates).to(dtype=param.dtype)

    def _constant(self, value: float, like: torch.Tensor) -> torch.Tensor:
        """`value` as a 0-d tensor of `like`'s dtype, made once. An op given a Python float turns it into such a
        tensor at every call (~5 us); this one holds the same rounded value (on the CPU: a scalar to any device)."""
        key = (value, like.dtype)
        constant = self._constants.get(key)
        if constant is None:
            constant = self._constants[key] = torch.tensor(value, dtype=like.dtype)
        return constant

    def _count(self, index: int) -> float:
        count = self._steps[index] = self._steps.get(index, 0.0) + 1
        return count

    def _adam(self, group, index, param, grad, lr, rates) -> None:
        state = self.state.setdefault(index, {})
        if not state:
            state["step"] = torch.tensor(0.0)
            state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        beta1, beta2 = group["betas"]
        step = self._count(index)
        weight_decay = group["weight_decay"]
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                if rates is None:
                    param.mul_(1 - lr * weight_decay)
                else:
                    param.mul_(self._scale(rates, lambda r: 1 - r * weight_decay, param))
            else:
                grad = grad.add(param, alpha=weight_decay)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(self._constant(beta2, param)).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        denom = self._denominators.get(index)
        if denom is None or denom.shape != param.shape:
            denom = self._denominators[index] = torch.empty_like(param)
        # (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps), as torch, into memory kept from step to step
        torch.sqrt(exp_avg_sq, out=denom).div_(bias_correction2_sqrt).add_(self._constant(group["eps"], param))
        if rates is None:
            param.addcdiv_(exp_avg, denom, value=-lr / bias_correction1)
        else:
            # addcdiv computes param + (value * exp_avg) / denom
            param.add_(exp_avg.mul(self._scale(rates, lambda r: -r / bias_correction1, param)).div_(denom))

    def _sgd(self, group, index, param, grad, lr, rates) -> None:
        momentum = group["momentum"]
        if group["weight_decay"] != 0:
            grad = grad.add(param, alpha=group["weight_decay"])
        if momentum != 0:
            state = self.state.setdefault(index, {})
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = grad.detach().clone()
                state["momentum_buffer"] = buf
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        if rates is None:
            param.add_(grad, alpha=-lr)
        else:
            param.addcmul_(grad, self._scale(rates, lambda r: -r, param))  # rounds as add(alpha=) does (fused)

    def _rmsprop(self, group, index, param, grad, lr, rates) -> None:
        state = self.state.setdefault(index, {})
        momentum, alpha = group["momentum"], group["alpha"]
        if not state:
            state["step"] = torch.tensor(0.0)
            state["square_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
            if momentum > 0:
                state["momentum_buffer"] = torch.zeros_like(param, memory_format=torch.preserve_format)
            if group["centered"]:
                state["grad_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        self._count(index)
        if group["weight_decay"] != 0:
            grad = grad.add(param, alpha=group["weight_decay"])
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(group["eps"])
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf.mul_(momentum).addcdiv_(grad, avg)
            if rates is None:
                param.add_(buf, alpha=-lr)
            else:
                param.addcmul_(buf, self._scale(rates, lambda r: -r, param))
        elif rates is None:
            param.addcdiv_(grad, avg, value=-lr)
        else:
            param.add_(grad.mul(self._scale(rates, lambda r: -r, param)).div_(avg))


def one_or_each(values) -> float | tuple[float, ...]:
    """One float when all the values are equal (the scalar path, torch's own), else a tuple of them."""
    values = tuple(float(v) for v in values)
    return values[0] if len(set(values)) == 1 else values


class RateSchedule:
    """The learning rate per epoch, as torch's StepLR / CosineAnnealingLR (eta_min 0) set it, stepped once per
    epoch after the optimizer's step. It writes `param_groups[0]["lr"]` of the optimizer, as torch's schedulers do.

    `done` epochs into a schedule of `length` (continuing a paused run): the rate is taken where the optimizer's
    group holds it, and the recursive formulas go on from there, as `Trainer` did with torch's schedulers.
    Per-model rates (a tuple) are scheduled model by model with the same float formulas.
    """

    def __init__(self, optimizer, kind: str, length: int, decay_every: int = 100, decay_factor: float = 0.5,
                 done: int = 0):
        if kind not in ("step", "cosine"):
            raise ValueError(f"schedule: {kind!r} is not step or cosine")
        self.optimizer = optimizer
        self.kind = kind
        self.length = length
        self.decay_every = decay_every
        self.decay_factor = decay_factor
        group = optimizer.param_groups[0]
        group.setdefault("initial_lr", group["lr"])
        self.base = group["initial_lr"]
        self.last_epoch = done

    def _next(self, lr: float, base: float, epoch: int) -> float:
        if self.kind == "step":
            if epoch == 0 or epoch % self.decay_every != 0:
                return lr
            return lr * self.decay_factor
        eta_min, t_max = 0, self.length
        if (epoch - 1 - t_max) % (2 * t_max) == 0:
            return lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        return (1 + math.cos(math.pi * epoch / t_max)) / (1 + math.cos(math.pi * (epoch - 1) / t_max)) * (
            lr - eta_min
        ) + eta_min

    def select(self, keep: list[int], optimizer) -> None:
        """Go on for the models at rows `keep` only, whose rates `optimizer` now holds."""
        self.optimizer = optimizer
        if not isinstance(self.base, (int, float)):
            self.base = one_or_each(self.base[p] for p in keep)

    def step(self) -> None:
        self.last_epoch += 1
        group = self.optimizer.param_groups[0]
        lr = group["lr"]
        if isinstance(lr, (int, float)):
            group["lr"] = self._next(lr, self.base, self.last_epoch)
        else:
            bases = self.base if not isinstance(self.base, (int, float)) else [self.base] * len(lr)
            group["lr"] = tuple(self._next(r, b, self.last_epoch) for r, b in zip(lr, bases))
