"""Bundle ids (DC-22): the same content always hashes to the same id; any change to any part changes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeops.bundles import Approver, BundleContent, BundleStore, DatasetRef, Verification, bundle_id
from tradeops.errors import ConfigError
from tradeops.store.objects import FolderObjectStore

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24)
scalars = st.one_of(st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False), text, st.booleans())
mappings = st.dictionaries(st.text(min_size=1, max_size=8), scalars, max_size=5)
contents = st.builds(
    BundleContent,
    image=text.map(lambda s: f"ghcr.io/acme/tradeops@sha256:{s}"),
    git_sha=text,
    candidate=mappings,
    risk=mappings,
    dataset=st.builds(DatasetRef, ref=text, fingerprint=st.none() | text, version=st.none() | text),
    verdict_id=text,
)


def _changed(value: object) -> object:
    """A different value of the same kind."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1 if abs(value) < 1e15 else value / 2
    if isinstance(value, str):
        return value + "x"
    if value is None:
        return "set"
    raise AssertionError(type(value))


def _variants(content: BundleContent) -> list[BundleContent]:
    """`content` with exactly one part changed, for every part (and every key of the mappings)."""
    raw = content.model_dump()
    out = []
    for field in ("image", "git_sha", "verdict_id"):
        out.append(BundleContent.model_validate(raw | {field: _changed(raw[field])}))
    for field in ("ref", "fingerprint", "version"):
        dataset = raw["dataset"] | {field: _changed(raw["dataset"][field])}
        out.append(BundleContent.model_validate(raw | {"dataset": dataset}))
    for field in ("candidate", "risk"):
        out.append(BundleContent.model_validate(raw | {field: raw[field] | {"added_key": 1}}))
        for key, value in raw[field].items():
            out.append(BundleContent.model_validate(raw | {field: raw[field] | {key: _changed(value)}}))
    return out


@pytest.mark.req("DC-22")
@settings(max_examples=200, deadline=None)
@given(contents)
def test_dc_22_the_same_content_has_the_same_id_and_any_change_gives_another(content):
    again = BundleContent.model_validate(json.loads(json.dumps(content.model_dump(mode="json"))))
    reordered = BundleContent.model_validate(
        content.model_dump() | {"candidate": dict(reversed(list(content.candidate.items())))}
    )
    assert bundle_id(again) == bundle_id(reordered) == content.id
    assert content.id.startswith("bundle-") and len(content.id) == len("bundle-") + 24
    ids = {variant.id for variant in _variants(content)}
    assert content.id not in ids and len(ids) == len(_variants(content))


@pytest.mark.req("DC-22")
def test_dc_22_a_stored_bundle_is_immutable_and_its_events_make_its_state(tmp_path):
    store = BundleStore(FolderObjectStore(tmp_path))
    content = BundleContent(
        image="ghcr.io/acme/tradeops@sha256:" + "0" * 64,
        git_sha="a" * 40,
        candidate={"strategy": "sma_cross", "params": {"fast": 10, "slow": 30}},
        risk={},
        dataset=DatasetRef(ref="sample:GOOG", fingerprint="f" * 64),
        verdict_id="verdict-1",
    )
    first = store.save(content)
    assert not first.verified and not first.revoked  # never gated
    at = datetime(2026, 3, 1, tzinfo=UTC)
    store.save(content, Verification(bundle_id=content.id, stack="staging", verdict_id="verdict-1", passed=True, at=at))
    assert store.get(content.id).created_at == first.created_at  # saved again: the same bundle, unchanged
    assert store.get(content.id).verified
    store.record(
        Verification(
            bundle_id=content.id,
            stack="staging",
            verdict_id="verdict-2",
            passed=False,
            reason="stale",
            at=at.replace(day=2),
        )
    )
    state = store.get(content.id)
    assert state.revoked and state.last_passed is not None and state.last_passed.verdict_id == "verdict-1"
    store.approve(content.id, "prod", Approver.slack("U1"))
    store.approve(content.id, "prod", Approver.slack("U1"))
    store.approve(content.id, "prod", Approver("github:bob", "pull-request", "https://github.com/a/b/pull/7#r-1"))
    assert [a.who for a in store.get(content.id).approvals_for("prod")] == ["slack:U1", "github:bob"]
    with pytest.raises(ConfigError, match="no bundle 'bundle-nope'"):
        store.approve("bundle-nope", "prod", Approver.slack("U1"))
