"""What a request may carry: finite numbers, and JSON nested no deeper than the limit (checked before parsing)."""

from __future__ import annotations

import pytest

from tests.apps.service.conftest import AUTH

pytestmark = pytest.mark.req("DC-48")
GATE = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}, "data": "sample:GOOG"}
NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]


@pytest.mark.parametrize("token", NOT_FINITE)
def test_dc_48_a_nan_or_infinite_gate_threshold_is_refused_with_422_naming_it(api, token):
    body = '{"strategy": "sma_cross", "data": "sample:GOOG", "params": {"fast": 10, "slow": 30}, '
    body += '"thresholds": {"profitability": {"min_sharpe": ' + token + "}}}"
    answer = api.post("/v1/gate", content=body, headers=AUTH | {"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert "thresholds.profitability.min_sharpe" in answer.text and "finite" in answer.text, answer.text


@pytest.mark.parametrize(
    ("path", "body", "named"),
    [
        ("/v1/backtests", '{"strategy": "sma_cross", "params": {"fast": NaN}}', "params.fast"),
        ("/v1/backtests", '{"strategy": "sma_cross", "execution": {"cash": Infinity}}', "execution.cash"),
        ("/v1/backtests", '{"strategy": "sma_cross", "execution": {"commission": "nan"}}', "commission"),
        ("/v1/sweeps", '{"strategy": "sma_cross", "grid": {"fast": [5, NaN]}}', "grid.fast.1"),
        (
            "/v1/gate",
            '{"strategy": "sma_cross", "thresholds": {"profitability": {"min_sharpe": "-inf"}}}',
            "min_sharpe",
        ),
    ],
)
def test_dc_48_nan_and_infinities_are_refused_in_every_number_a_request_carries(api, path, body, named):
    answer = api.post(path, content=body, headers=AUTH | {"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert named in answer.text and "finite" in answer.text, answer.text


def test_dc_48_finite_numbers_still_pass(api):
    answer = api.post("/v1/gate", json=GATE | {"thresholds": {"profitability": {"min_sharpe": 0.25}}}, headers=AUTH)
    assert answer.status_code == 202, answer.text


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize("depth", [100_000, 65])
@pytest.mark.parametrize("path", ["/v1/backtests", "/v1/gate", "/v1/sweeps"])
def test_dc_48_json_nested_deeper_than_the_limit_gets_400_before_parsing(api, path, depth):
    body = '{"strategy": "sma_cross", "params": ' + nested(depth) + "}"
    answer = api.post(path, content=body, headers=AUTH | {"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text[:300]
    assert "nested deeper than 64" in answer.json()["detail"]


def test_dc_48_depth_inside_strings_does_not_count(api):
    body = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}, "data": "sample:GOOG" + "[{" * 500}
    answer = api.post("/v1/backtests", json=body, headers=AUTH)
    assert answer.status_code == 422 and "nested" not in answer.text  # the data name is wrong, the depth is fine
