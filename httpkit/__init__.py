"""Floor 2: the small HTTP kit both services share.

One body reader with its limit, one strict linear-time JSON guard applied before any other
work, one error body and its handlers, security headers on every response, the API docs
page from the project's own code, JSON-lines logs with a request id, rate limits, and the
bounded pools that keep blocking work off the event loop. It imports only floors 0 and 1
(``common``, ``documents``) plus FastAPI/Starlette, so a service composes it and never
repeats it.

Import from the modules (``httpkit.errors``, ``httpkit.body`` …): this package file stays
empty of imports so that importing one part never pulls in the others.
"""
