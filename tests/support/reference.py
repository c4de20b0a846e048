"""Plain PyTorch training, written the obvious way (nn.Sequential, autograd, torch.optim), to check the engine."""

import numpy as np
import torch

from engine import build_model

OPTIMIZERS = {
    "adam": lambda p, s: torch.optim.Adam(p, lr=s.lr),
    "adamw": lambda p, s: torch.optim.AdamW(p, lr=s.lr),
    "sgd": lambda p, s: torch.optim.SGD(p, lr=s.lr, momentum=s.momentum),
    "rmsprop": lambda p, s: torch.optim.RMSprop(p, lr=s.lr),
}


def plain_pytorch_history(settings, dataset, epochs=None, model=None):
    """The notebook's loop, generalised: per epoch the training loss, then train/test accuracy after the step."""
    torch.set_num_threads(1)
    x = torch.tensor(dataset.normalise(dataset.x_train))
    y = torch.tensor(dataset.y_train[:, None])
    x_test = torch.tensor(dataset.normalise(dataset.x_test))
    y_test = torch.tensor(dataset.y_test[:, None])
    if model is None:
        torch.manual_seed(settings.seed)
        model = build_model(2, settings.hidden, settings.activation, settings.dropout)
    optimizer = OPTIMIZERS[settings.optimizer](model.parameters(), settings)
    scheduler = None
    if settings.schedule == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, settings.decay_every, settings.decay_factor)
    elif settings.schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs or settings.epochs)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    history = {"loss": [], "train_accuracy": [], "test_accuracy": [], "test_loss": []}
    n = len(x)
    batch = settings.batch_size or n
    for _ in range(epochs or settings.epochs):
        model.train()
        order = torch.randperm(n) if batch < n else None
        total = torch.zeros(())
        for start in range(0, n, batch):
            rows = order[start : start + batch] if order is not None else slice(None)
            logits = model(x[rows])
            loss = loss_fn(logits, y[rows])
            objective = loss
            if settings.reg == "l2":
                objective = loss + settings.reg_rate * sum((w**2).sum() for w in weights)
            elif settings.reg == "l1":
                objective = loss + settings.reg_rate * sum(w.abs().sum() for w in weights)
            optimizer.zero_grad()
            objective.backward()
            optimizer.step()
            total += loss.detach() * len(logits)
        epoch_loss = loss if order is None else total / n
        if scheduler is not None:
            scheduler.step()
        model.eval()
        with torch.no_grad():
            train_pred = (torch.sigmoid(model(x)) >= 0.5).float()
            test_logits = model(x_test)
            test_pred = (torch.sigmoid(test_logits) >= 0.5).float()
        history["loss"].append(epoch_loss.item())
        history["train_accuracy"].append((train_pred == y).float().mean().item())
        history["test_accuracy"].append((test_pred == y_test).float().mean().item())
        history["test_loss"].append(loss_fn(test_logits, y_test).item())
    return {key: np.array(values) for key, values in history.items()}
