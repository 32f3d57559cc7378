"""Dependencies of the routes: the per-process runtime built in the app's lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from registry_api.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    """Async, so that FastAPI resolves it on the event loop, not in its shared thread pool."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
