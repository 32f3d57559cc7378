"""GET /livez, /readyz, /healthz (from the health prober's cache) and GET /metrics (Prometheus).

All four are ``async`` and read only what is in memory (and the local index's head): none of
them waits on the chain or IPFS, and none needs a thread, so a hung backend or a full thread
pool never delays them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from verifier.api.deps import RuntimeDep

router = APIRouter(tags=["operations"])

_CHECKS: dict[str, Any] = {
    "description": "Each check: state (ok, failing, stale, unknown), required for readiness, age of its last probe",
}


@router.get("/livez", summary="Liveness: the process answers (never touches a backend)")
async def livez() -> JSONResponse:
    return JSONResponse({"status": "alive"})


@router.get(
    "/readyz",
    summary="Readiness: chain, chain id, registry code, index freshness",
    responses={200: _CHECKS, 503: {"description": "Not ready; the failing checks say why"}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    report = runtime.health.report()
    body = {"ready": report["ready"], "status": report["status"], "checks": report["checks"]}
    return JSONResponse(body, status_code=200 if report["ready"] else 503)


@router.get(
    "/healthz",
    summary="Chain, registry, index and IPFS, with each check's state and age",
    responses={200: _CHECKS, 503: {"description": "Not ready; the failing checks say why"}},
)
async def healthz(runtime: RuntimeDep) -> JSONResponse:
    report = runtime.health.report()
    return JSONResponse(report, status_code=200 if report["ready"] else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    runtime.health.update_metrics()
    return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4")
