"""Schemathesis against the verifier's own OpenAPI document, over the real chain of each mode.

Every operation gets generated requests, data that fits the spec (positive) and data that does
not (negative), from a fixed seed; POST /v1/verify gets more, in every media type the spec
declares (JSON request shapes, text/plain QR URLs, multipart uploads). Whatever comes in, the
verifier answers no 5xx, with a status code the spec declares and a body that conforms to the
response schema where the spec gives one; data that breaks the spec is refused with a 4xx. The
adversarial bodies of ``test_hardening`` are sent as explicit cases too, as raw bytes (a
generator could never write a duplicate key or a lone surrogate): each a 400 the spec declares.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.generation.case import Case
from schemathesis.generation.modes import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from chain.property import deploy_property_registry
from tests.contracts.helpers import gov
from tests.factories import World
from tests.verifier.conftest import IssueFn, verifier_settings
from tests.verifier.test_hardening import ADVERSARIAL
from verifier.app import create_app

pytestmark = pytest.mark.chain

#: Generated cases per operation and generation mode, and for POST /v1/verify:
#: 240 x 2 + 2 x 60 x 2 + 3 x 60 + 5 = 905 per chain mode (1,810 in all), plus the explicit
#: adversarial cases.
CASES_PER_OPERATION = 60
VERIFY_CASES = 240
SEED = 20261101

OPERATIONS = [
    "POST /v1/verify",
    "POST /v1/status",
    "GET /v1/documents/{cid}",
    "GET /v1/types/{doc_type}",
    "GET /v1/properties/{unit}",
    "GET /v1/properties/{unit}/history",
    "GET /q/{cid}",
]
#: Operations whose only input is a free string path parameter: no request can break the spec
#: (the answer to a bad value is a 400/404 the spec declares), so there are no negative cases.
FREE_TEXT_OPERATIONS = {"GET /v1/documents/{cid}", "GET /v1/types/{doc_type}", "GET /q/{cid}"}
#: Operations without inputs: one request each (there is nothing to vary).
CONSTANT_OPERATIONS = [
    "GET /v1/types",
    "GET /v1/messages",
    "GET /credentials/v1",
    "GET /credentials/v2",
    "GET /livez",
    "GET /readyz",
    "GET /healthz",
    "GET /metrics",
]


@pytest.fixture
def verifier_app(world: World, issue: IssueFn, tmp_path: Path) -> Iterator[FastAPI]:
    """The verifier over the world's registries (a PropertyRegistry followed), a few documents issued."""
    prop = deploy_property_registry(
        world.client,
        world.sender(world.governor),
        deployments_dir=world.settings.deployments_dir,
        document_registry=world.registry.address,
        governance=gov(world),
    )
    issue(count=3)
    settings = verifier_settings(world, tmp_path, property_registry_address=prop.address)
    app = create_app(settings)
    try:
        yield app
    finally:
        shutdown_lifespans()


def test_the_spec_lists_every_operation(verifier_app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", verifier_app)
    labels = sorted(result.ok().label for result in schema.get_all_operations())
    assert labels == sorted(OPERATIONS + CONSTANT_OPERATIONS)


@pytest.mark.parametrize(
    ("label", "mode"),
    [
        (label, mode)
        for label in OPERATIONS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if not (label in FREE_TEXT_OPERATIONS and mode is GenerationMode.NEGATIVE)
    ]
    + [(label, GenerationMode.POSITIVE) for label in CONSTANT_OPERATIONS],
)
def test_generated_requests_get_no_5xx_and_conform_to_the_spec(
    verifier_app: FastAPI, label: str, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", verifier_app)
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    wanted = 1 if label in CONSTANT_OPERATIONS else VERIFY_CASES if label == "POST /v1/verify" else CASES_PER_OPERATION
    if label in CONSTANT_OPERATIONS:
        wait_until_ready(schema)
    seen = run_cases(operation.as_strategy(generation_mode=mode), wanted)
    statuses: Counter[int] = Counter()
    for (_kind, code), count in seen.items():
        statuses[code] += count
    assert sum(statuses.values()) == wanted, seen
    assert not [code for code in statuses if code >= 500], seen
    if mode is GenerationMode.NEGATIVE:
        # a text/plain body or a form field is text on the wire whatever type the generator
        # broke (a number sent as text/plain is a QR URL that does not parse: an INVALID
        # verdict); JSON keeps its types, so every schema-breaking JSON body is refused
        typed = [(kind, code) for (kind, code) in seen if kind in (None, "application/json")]
        assert all(400 <= code < 500 for _kind, code in typed), seen
    if label == "POST /v1/verify":
        kinds = {kind for kind, _code in seen}
        assert {"application/json", "multipart/form-data", "text/plain"} <= kinds, seen
        if mode is GenerationMode.POSITIVE:
            assert 200 in statuses, f"no generated request reached a verdict: {seen}"


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_bodies_are_refused_as_the_spec_says(verifier_app: FastAPI, name: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", verifier_app)
    case = schema["/v1/verify"]["POST"].Case(media_type="application/json")
    response = case.call(data=ADVERSARIAL[name], headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text[:300]
    case.validate_response(response, excluded_checks=[positive_data_acceptance])


def wait_until_ready(schema: Any) -> None:
    """The health probes' first round: before it, /readyz and /healthz answer 503 (not ready)."""
    case = schema["/readyz"]["GET"].Case()
    for _ in range(200):
        if case.call().status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError("the verifier did not get ready")


def run_cases(strategy: st.SearchStrategy[Case], wanted: int) -> Counter[tuple[str | None, int]]:
    """Draw ``wanted`` cases from ``strategy`` (fixed seed), send and check each; (media type, status) counts."""
    statuses: Counter[tuple[str | None, int]] = Counter()

    @seed(SEED)
    @settings(
        max_examples=wanted,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Case) -> None:
        excluded = [positive_data_acceptance]
        if case.media_type not in (None, "application/json"):
            # text on the wire: a "wrong type" the generator made (a number, an array) is sent as
            # text or, for an empty array in a form, not at all; the typed check is on JSON only
            excluded.append(negative_data_rejection)
        response = case.call_and_validate(excluded_checks=excluded)
        statuses[(case.media_type, response.status_code)] += 1

    run()
    return statuses
