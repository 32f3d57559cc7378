"""The import-layering check (scripts/check_layers.py): it can fail, and the project's tree passes it.

The checker is run as CI runs it, as a script in its own process, so these tests see its real output
and exit status.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHECKER = REPO / "scripts" / "check_layers.py"


def run_checker(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECKER), *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """A small fake project: ``files`` maps a relative path to its source."""
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root


# A fake project that keeps every floor: downward imports, chain using documents, scripts and tests
# above everything; a function-local import that points back up the package is no circle.
CLEAN = {
    "common/__init__.py": "",
    "common/errors.py": "class EregError(Exception): ...\n",
    "documents/__init__.py": "from documents.model import Doc\n",
    "documents/model.py": "from common.errors import EregError\n\nclass Doc: ...\n",
    "chain/__init__.py": "",
    "chain/client.py": "from documents.model import Doc\nfrom .errors import ChainError\n",
    "chain/errors.py": "from common.errors import EregError\n\nclass ChainError(EregError): ...\n",
    "storage/__init__.py": "import common\n",
    "httpkit/__init__.py": "from chain import client\nfrom storage import *\n",
    "verifier/__init__.py": "",
    "verifier/app.py": "from verifier import routes\nfrom httpkit import client\n",
    "verifier/routes.py": "def late() -> None:\n    from verifier import app\n",
    "issuer/__init__.py": "import documents.model\n",
    "devstack/__init__.py": "import chain.client\n",
    "scripts/bench.py": "import devstack\nimport helper\nfrom tests.factories import make\n",
    "scripts/helper.py": "import verifier.app\n",
    "tests/__init__.py": "",
    "tests/factories.py": "import devstack\nimport issuer\n\ndef make() -> None: ...\n",
}


def test_a_tree_that_keeps_the_floors_passes(tmp_path: Path) -> None:
    result = run_checker(write_tree(tmp_path, CLEAN))
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        # upward, inside a function
        (
            "common/hexutil.py",
            "def f() -> None:\n    import storage.base\n",
            "2: common (floor 0) imports storage (floor 1)",
        ),
        # sideways on floor 1 (only chain -> documents is allowed)
        ("storage/base.py", "from documents import model\n", "1: storage (floor 1) imports documents (floor 1)"),
        ("documents/chainy.py", "import chain.client\n", "1: documents (floor 1) imports chain (floor 1)"),
        # under TYPE_CHECKING: still a dependency
        (
            "chain/types.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from httpkit import x\n",
            "3: chain (floor 1) imports httpkit (floor 2)",
        ),
        # the applications never import each other, not even through importlib
        (
            "verifier/cli.py",
            "import importlib\nimportlib.import_module('issuer.cli')\n",
            "2: verifier (floor 4) imports issuer (floor 4)",
        ),
        (
            "issuer/relay.py",
            "\n\nfrom registry_api.app import create\n",
            "3: issuer (floor 4) imports registry_api (floor 4)",
        ),
        ("httpkit/deps.py", "from verifier import app\n", "1: httpkit (floor 2) imports verifier (floor 4)"),
        ("devstack/run.py", "import tests.factories\n", "1: devstack (floor 5) imports tests (floor 5)"),
        ("tests/test_bench.py", "import scripts.bench\n", "1: tests (floor 5) imports scripts (floor 5)"),
    ],
)
def test_an_import_against_the_floors_is_reported(tmp_path: Path, path: str, source: str, expected: str) -> None:
    result = run_checker(write_tree(tmp_path, {**CLEAN, path: source}))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{path}:{expected}"]


def test_a_package_without_a_floor_is_reported(tmp_path: Path) -> None:
    result = run_checker(write_tree(tmp_path, {**CLEAN, "reporting/__init__.py": "import chain\n"}))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "reporting/__init__.py:1: package reporting has no floor (add it to FLOORS in check_layers.py)"
    ]


CIRCLE = {
    "verifier/app.py": "from verifier.api.routes import verify\n",
    "verifier/api/__init__.py": "",
    "verifier/api/routes/__init__.py": "",
    "verifier/api/routes/verify.py": "import json\n\nfrom ..deps import RuntimeDep\n",
    "verifier/api/deps.py": "from verifier.app import Runtime\n",
}


def test_an_import_circle_is_reported_with_each_of_its_imports(tmp_path: Path) -> None:
    result = run_checker(write_tree(tmp_path, {**CLEAN, **CIRCLE}))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "import circle in verifier (3 modules: verifier.api.deps, verifier.api.routes.verify, verifier.app): "
        "verifier.api.deps -> verifier.app -> verifier.api.routes.verify -> verifier.api.deps",
        "  verifier/api/deps.py:1: verifier.api.deps imports verifier.app",
        "  verifier/app.py:1: verifier.app imports verifier.api.routes.verify",
        "  verifier/api/routes/verify.py:3: verifier.api.routes.verify imports verifier.api.deps",
    ]


def test_a_circle_through_a_package_init_is_reported(tmp_path: Path) -> None:
    """Importing verifier.api.errors runs verifier/api/__init__.py first, which imports the app."""
    files = {
        "verifier/app.py": "from verifier.index import Index\n",
        "verifier/index.py": "from verifier.api.errors import ApiError\n",
        "verifier/api/__init__.py": "from verifier.app import create\n",
        "verifier/api/errors.py": "",
    }
    result = run_checker(write_tree(tmp_path, {**CLEAN, **files}))
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == (
        "import circle in verifier (3 modules: verifier.api, verifier.app, verifier.index): "
        "verifier.api -> verifier.app -> verifier.index -> verifier.api"
    )


def test_a_type_checking_import_closes_a_circle_only_when_asked(tmp_path: Path) -> None:
    typed = "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from verifier.app import Runtime\n"
    root = write_tree(tmp_path, {**CLEAN, **CIRCLE, "verifier/api/deps.py": typed})
    assert run_checker(root).returncode == 0
    result = run_checker("--type-checking-circles", root)
    assert result.returncode == 1
    assert "  verifier/api/deps.py:4: verifier.api.deps imports verifier.app" in result.stdout.splitlines()


def test_a_route_importing_another_route_is_reported(tmp_path: Path) -> None:
    routes = {
        "registry_api/api/__init__.py": "",
        "registry_api/api/common.py": "REFUSALS = {}\n",
        "registry_api/api/routes/__init__.py": "",
        "registry_api/api/routes/anchors.py": "from registry_api.api.common import REFUSALS\n",
        "registry_api/api/routes/property.py": "from registry_api.api.routes.anchors import REFUSALS\n",
    }
    result = run_checker(write_tree(tmp_path, {**CLEAN, "registry_api/__init__.py": "", **routes}))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "registry_api/api/routes/property.py:1: a route (registry_api.api.routes.property) imports another route "
        "(registry_api.api.routes.anchors)"
    ]


def test_the_project_keeps_its_floors_and_has_no_import_circle() -> None:
    """As the Makefile's lint target runs it (TYPE_CHECKING imports count toward circles)."""
    result = run_checker("--type-checking-circles", REPO)
    assert result.returncode == 0, result.stdout + result.stderr
