"""Schemathesis against the relay's own OpenAPI document, over the real chain of each mode.

Every operation gets generated requests, data that fits the spec (positive) and data that does
not (negative), from a fixed seed. Whatever comes in, the relay answers no 5xx, with a status
code the spec declares, and with a body that conforms to the response schema where the spec
gives one; data that breaks the spec is refused with a 4xx. Signatures in generated data are
random bytes, so positive cases are refused too (401 and the like): the acceptance path itself
is covered by the hand-written tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.generation.case import Case
from schemathesis.generation.modes import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import positive_data_acceptance

from chain.property import deploy_property_registry
from registry_api.app import create_app
from tests.contracts.helpers import gov
from tests.factories import World
from tests.registry_api.conftest import relay_settings

pytestmark = pytest.mark.chain

#: Generated cases per operation and generation mode: 21 x 2 x 40 + 4 = 1,684 per chain mode (3,368 in all).
CASES_PER_OPERATION = 40
SEED = 20260501


@pytest.fixture
def relay_app(world: World, tmp_path: Path) -> Iterator[FastAPI]:
    """The relay over the world's registries; schemathesis runs its lifespan, stopped after the test."""
    deploy_property_registry(
        world.client,
        world.sender(world.governor),  # the deployer; the council grants the registry its role
        deployments_dir=world.settings.deployments_dir,
        document_registry=world.registry.address,
        governance=gov(world),
    )
    settings = relay_settings(world, tmp_path, deployments_dir=world.settings.deployments_dir)
    app = create_app(settings, relayer=world.relayer, run_batcher=False)
    try:
        yield app
    finally:
        shutdown_lifespans()


OPERATIONS = [
    "POST /v1/anchors",
    "POST /v1/status-changes",
    "GET /v1/requests/{request_id}",
    "GET /v1/anchors/{root}",
    "POST /v1/property/units/{unitId}",
    "GET /v1/property/units/{unitId}",
    "POST /v1/property/units/{unitId}/transfers",
    "POST /v1/property/units/{unitId}/mortgages",
    "POST /v1/property/units/{unitId}/mortgages/{mortgageId}/release",
    "POST /v1/property/units/{unitId}/seizures",
    "POST /v1/property/units/{unitId}/seizures/{seizureId}/release",
    "GET /v1/property/transfers/{caseId}",
    "POST /v1/property/transfers/{caseId}/approvals",
    "POST /v1/property/transfers/{caseId}/rejection",
    "POST /v1/property/transfers/{caseId}/return",
    "POST /v1/property/transfers/{caseId}/resubmission",
    "POST /v1/property/transfers/{caseId}/cancellation",
    "POST /v1/property/transfers/{caseId}/consents",
    "POST /v1/property/units/{unitId}/corrections",
    "GET /v1/property/corrections/{caseId}",
    "POST /v1/property/corrections/{caseId}/approvals",
]
#: Operations without inputs: one request each (there is nothing to vary).
CONSTANT_OPERATIONS = ["GET /healthz", "GET /livez", "GET /readyz", "GET /metrics"]


def test_the_spec_lists_every_operation(relay_app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", relay_app)
    labels = sorted(result.ok().label for result in schema.get_all_operations())
    assert labels == sorted(OPERATIONS + CONSTANT_OPERATIONS)


@pytest.mark.parametrize(
    ("label", "mode"),
    [(label, mode) for label in OPERATIONS for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    + [(label, GenerationMode.POSITIVE) for label in CONSTANT_OPERATIONS],
)
def test_generated_requests_get_no_5xx_and_conform_to_the_spec(
    relay_app: FastAPI, label: str, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", relay_app)
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    statuses = run_cases(operation.as_strategy(generation_mode=mode))
    expected = 1 if label in CONSTANT_OPERATIONS else CASES_PER_OPERATION
    assert sum(statuses.values()) == expected, statuses
    assert not [code for code in statuses if code >= 500], statuses
    if mode is GenerationMode.NEGATIVE:
        assert all(400 <= code < 500 for code in statuses), statuses
    if label.startswith("POST") and mode is GenerationMode.POSITIVE:
        # bodies the relay could parse reached its signature checks, not only the validator
        assert statuses.keys() & {401, 403, 409}, statuses


def run_cases(strategy: st.SearchStrategy[Case]) -> Counter[int]:
    """Draw up to CASES_PER_OPERATION cases from ``strategy`` (fixed seed), send and check each."""
    statuses: Counter[int] = Counter()

    @seed(SEED)
    @settings(
        max_examples=CASES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Case) -> None:
        response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
        statuses[response.status_code] += 1

    run()
    return statuses
