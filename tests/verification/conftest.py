"""Fixtures of the verification tests: the verifier tests' documents, store and verifier app.

The verdicts are asked through the verifier service's wiring, so the fixtures are the ones its
own tests use (documents issued by the real issuance engine on the real node).
"""

from tests.verifier.conftest import issue, store, verifier  # noqa: F401 - fixtures, registered by import
