"""The verification itself: a document, a QR URL or a status query in, a verdict out.

Below the applications, so that the verifier service (over HTTP) and the ``ereg verify`` command
(on a clerk's machine, with only an RPC endpoint and IPFS) give the same verdict from the same
code. The index is optional: without one every fact comes from the chain.
"""
