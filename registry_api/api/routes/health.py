"""GET /livez, /readyz, /healthz and /metrics: answered from memory, never waiting on a backend.

``/livez`` is 200 while the process serves requests. ``/readyz`` is 200 when the last probe
found the chain (reachable, the right chain id, the registries' code) and the queue answering
and the batcher running, else 503, with what each check saw. ``/healthz`` is the same answer
with the relay's identity (chain id, registry, relayer), which clients read to check that the
relay serves the chain and registry they sign for.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from registry_api.api.deps import RuntimeDep

router = APIRouter(tags=["operations"])


@router.get("/livez", summary="Liveness: 200 while the process serves requests")
async def livez() -> JSONResponse:
    return JSONResponse({"status": "alive"})


@router.get(
    "/readyz",
    summary="Readiness: chain (reachable, chain id, registry code), queue and batcher, from the last probe",
    responses={503: {"description": "Not ready: the body says which check failed"}},
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    view = runtime.health.view()
    return JSONResponse(view, status_code=200 if view["ready"] else 503)


@router.get(
    "/healthz",
    summary="Readiness with the relay's identity: chain id, registries, relayer",
    responses={503: {"description": "Not ready: the body says which check failed"}},
)
async def healthz(runtime: RuntimeDep) -> JSONResponse:
    view = runtime.health.view()
    body: dict[str, Any] = {
        "chainId": runtime.settings.chain_id,
        "registry": runtime.registry.address,
        "relayer": runtime.batcher.account.address,
        **view,
    }
    return JSONResponse(body, status_code=200 if view["ready"] else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    # the queue gauges are set by the health prober: a scrape never waits on the queue
    return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4")
