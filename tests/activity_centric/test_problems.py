import pytest

from activity_centric.problems import Problem, english


def test_problem_params_are_read_only_and_default_empty():
    params = {"minimum": 5}
    problem = Problem("bounds_reversed", params)
    params["minimum"] = 1  # the caller's dict is copied
    assert problem.params == {"minimum": 5}
    with pytest.raises(TypeError):
        problem.params["minimum"] = 2  # type: ignore[index]
    assert Problem("no_bound").params == {}
    assert Problem("no_bound") == Problem("no_bound", {})


def test_english_fills_the_code_template_and_extra_values_win():
    templates = {"bounds_reversed": "{name}: minimum {minimum:g} > maximum {maximum:g}"}
    problem = Problem("bounds_reversed", {"minimum": 5.0, "maximum": 2, "name": "ignored"})
    assert english(problem, templates, name="Seats") == "Seats: minimum 5 > maximum 2"
    with pytest.raises(KeyError):
        english(Problem("no_bound"), templates)
