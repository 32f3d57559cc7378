"""GET /healthz (chain, queue, batcher) and GET /metrics (Prometheus)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from chain.errors import ChainError
from registry_api.api.deps import RuntimeDep

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Chain reachability, queue depth and batcher state")
def healthz(runtime: RuntimeDep) -> JSONResponse:
    counts = runtime.queue.counts()
    body: dict[str, Any] = {
        "chainId": runtime.settings.chain_id,
        "registry": runtime.registry.address,
        "propertyRegistry": runtime.property.address_or_none(),
        "relayer": runtime.batcher.account.address,
        "queue": counts,
    }
    healthy = True
    try:
        body["chain"] = {"reachable": True, "head": runtime.registry.client.block_number()}
    except ChainError as exc:
        body["chain"] = {"reachable": False, "error": exc.code}
        healthy = False
    batcher = runtime.batcher
    last = batcher.last_round
    body["batcher"] = {
        "running": runtime.thread is not None and runtime.thread.is_alive(),
        "lastRoundSecondsAgo": None if last is None else round(time.time() - last, 3),
        "lastError": None if batcher.last_error is None else batcher.last_error.code,
    }
    if runtime.thread is not None and not runtime.thread.is_alive():
        healthy = False
    body["status"] = "ok" if healthy else "degraded"
    return JSONResponse(body, status_code=200 if healthy else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(runtime: RuntimeDep) -> Response:
    for state, count in runtime.queue.counts().items():
        runtime.metrics.requests.labels(state).set(count)
    return Response(runtime.metrics.render(), media_type="text/plain; version=0.0.4")
