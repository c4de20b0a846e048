"""How many frames an experiment keeps of its model's training: those `engine.snapshots.SnapshotRecorder` takes
in the worker thread, through every run, thinned evenly once there are more than MAX_FRAMES."""

from __future__ import annotations

import numpy as np

from engine.snapshots import Frame

MAX_FRAMES = 40  # per model; beyond it the frames are thinned evenly to about half


def add_frames(frames: list[Frame], new: list[Frame]) -> list[Frame]:
    """`frames` followed by the `new` ones of later epochs; more than MAX_FRAMES are thinned evenly to about half
    (the first and the last kept)."""
    frames = list(frames)
    for frame in new:
        if not frames or frame.epoch > frames[-1].epoch:
            frames.append(frame)
    if len(frames) > MAX_FRAMES:
        keep = np.unique(np.round(np.linspace(0, len(frames) - 1, MAX_FRAMES // 2 + 1)).astype(int))
        frames = [frames[i] for i in keep]
    return frames
