"""The budget's own edges: zero points and the 0/100 % floors are valid budgets, and how a budget is named."""

import pytest

from edgeshrink.budget import Budget
from edgeshrink.errors import RecipeError


def test_a_zero_point_budget_allows_no_loss_at_all():
    strict = Budget(0.0)
    assert strict.allowed_drop(0.99) == 0.0
    assert strict.within(0.99, 0.99) and strict.within(0.99, 0.995) and not strict.within(0.99, 0.9899)


@pytest.mark.parametrize("floor", [0.0, 100.0])
def test_floors_at_both_ends_of_the_percent_scale_are_valid(floor):
    assert Budget(0.5, floor).min_accuracy == floor
    assert Budget(0.5, 100.0).allowed_drop(1.0) == 0.0 and not Budget(0.5, 100.0).within(1.0, 0.9999)


@pytest.mark.parametrize("drop, floor", [(-0.01, None), (0.5, -0.01), (0.5, 100.01)])
def test_just_outside_is_refused(drop, floor):
    with pytest.raises(RecipeError):
        Budget(drop, floor)


def test_budgets_name_themselves_in_points_and_percent():
    assert Budget(0.5).describe() == "0.5 pt"
    assert Budget(0.25, 99.0).describe() == "0.25 pt, floor 99%"
