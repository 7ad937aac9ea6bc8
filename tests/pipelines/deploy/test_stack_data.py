"""The bars the staging and prod stack tests gate on: BTC-like, at BTC's prices, never GOOG relabelled (DC-32)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pipelines.infra.evaluate import stack_config

from tests.fakes.exchange import STACK_BARS_SEED, seed_stack_datasets
from tradeops.data import load_bars
from tradeops.data.samples import crypto_regimes
from tradeops.gate import Candidate, run_gate
from tradeops.store.objects import FolderObjectStore


def _checks(verdict) -> dict[str, tuple[float | None, bool]]:
    return {c.name: (c.value, c.passed) for c in verdict.checks}


@pytest.mark.req("DC-32")
def test_dc_32_the_stack_bars_are_btc_like_and_the_prod_gate_passes_them_only_sized_for_btc(tmp_path):
    objects = FolderObjectStore(tmp_path / "objects")
    assert seed_stack_datasets(objects, ("prod",))[0].startswith("dataset:binance-btcusdt-1d@")
    bars = load_bars("dataset:binance-btcusdt-1d", objects=objects)
    close = bars.close[:, 0]
    assert list(bars.symbols) == ["BTC/USDT"] and bars.n_bars == 2000
    np.testing.assert_allclose(close, crypto_regimes(seed=STACK_BARS_SEED)["close"].to_numpy(), rtol=1e-9)
    assert close.min() > 3_000 and close.max() < 100_000  # GOOG's bars were 100-800
    assert (pd.Series(bars.index).diff().dropna() == pd.Timedelta("1D")).all()  # crypto trades every day
    raw = stack_config("prod")["tradeops:settings"]["candidate"]

    verdict, _ = run_gate(Candidate.model_validate(raw), objects=objects)

    assert verdict.passed, [c for c in verdict.checks if not c.passed]
    trades, _ = _checks(verdict)["min_trades"]
    assert trades is not None and trades >= 20
    all_in = Candidate.model_validate(raw | {"execution": {"commission": 0.001}})
    value, passed = _checks(run_gate(all_in, objects=objects)[0])["max_drawdown_pct"]
    assert not passed and value is not None and value > 35  # why the stacks size at half the cash per entry
    walk, _ = run_gate(Candidate.model_validate(raw | {"data": "sample:crypto"}))
    assert verdict.exit_code == 0 and walk.exit_code == 1  # a random walk at the same levels has no trend to find
