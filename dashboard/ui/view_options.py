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

    def panel(self) -> pn.widgets.CheckBoxGroup:
        """The options as a row of checkboxes, kept in step with the parameters both ways. One CheckBoxGroup,
        not four Checkbox widgets: its labels are clickable (a Panel Checkbox's text is not)."""
        labels = {self.param[name].label: name for name in OPTIONS}
        group = pn.widgets.CheckBoxGroup(
            options=list(labels),
            inline=True,
            margin=(2, 5),
            css_classes=["nnp-view-options"],
            styles={"flex": "1 1 100%"},  # a line of its own in the Training tab's FlexBox
            stylesheets=["label { margin-right: 14px; }"],
        )

        def to_group(*events) -> None:
            group.value = [label for label, name in labels.items() if getattr(self, name)]

        def from_group(event) -> None:
            self.param.update({name: label in event.new for label, name in labels.items()})

        to_group()
        group.param.watch(from_group, "value")
        self.param.watch(to_group, list(OPTIONS))
        return group
