"""The accuracy budget: points against the input, and an absolute floor."""

import pytest

from edgeshrink.budget import Budget
from edgeshrink.errors import RecipeError


def test_the_tighter_of_drop_and_floor_decides():
    assert Budget(0.5).allowed_drop(0.9927) == 0.5
    assert Budget(0.5, 99.0).allowed_drop(0.9927) == pytest.approx(0.27)
    assert Budget(0.1, 99.0).allowed_drop(0.9927) == 0.1
    assert Budget(0.5, 99.0).within(0.9927, 0.9900) and not Budget(0.5, 99.0).within(0.9927, 0.9899)
    assert Budget(0.1).within(0.9927, 0.9917) and not Budget(0.1).within(0.9927, 0.9916)


@pytest.mark.parametrize("drop, floor, message", [
    (-0.1, None, "--max-drop must be 0 or more"),
    (0.5, 101.0, "--min-accuracy must be a percentage between 0 and 100"),
])
def test_bad_budgets_are_refused(drop, floor, message):
    with pytest.raises(RecipeError, match=message):
        Budget(drop, floor)
