"""What the decision map shows: options of the view, not of the experiment (they change no result)."""

from __future__ import annotations

import panel as pn
import param

OPTIONS = ("discretize", "show_test", "mark_wrong", "show_target")


class ViewOptions(param.Parameterized):
    """TensorFlow Playground's "discretize output" and "show test data", and ours: wrong-point marks, target."""

    discretize = param.Boolean(default=False, label="Discretize output",
                               doc="Show the predicted class regions instead of the probability.")
    show_test = param.Boolean(default=True, label="Show test points",
                              doc="Draw the test points (triangles) on the decision map.")
    mark_wrong = param.Boolean(default=True, label="Mark wrong points",
                               doc="Draw the points the model gets wrong as crosses.")
    show_target = param.Boolean(default=True, label="Show exact target",
                                doc="Show the exact target (or all points) beside the decision map.")

    def panel(self) -> pn.Row:
        """One checkbox per option, in a row."""
        boxes = [pn.widgets.Checkbox.from_param(self.param[name], margin=(2, 12, 2, 5), css_classes=[f"nnp-{name}"])
                 for name in OPTIONS]
        return pn.Row(*boxes, sizing_mode="stretch_width", margin=(0, 0), css_classes=["nnp-view-options"],
                      styles={"flex": "1 1 100%"})  # a line of its own in the Training tab's FlexBox
