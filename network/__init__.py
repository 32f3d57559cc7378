"""A Besu QBFT network generated from the list of departments: ``ereg network init``.

From a TOML spec (the network's parameters, the departments with their validators and public
signer-key addresses, the relayers) this package writes a directory an operator can start from:
the QBFT ``genesis.json`` (validators in ``extraData``) and its block hash, one encrypted node key
per validator with its public key and enode, each node's Besu ``config.toml``, the shared
``permissions_config.toml`` and ``static-nodes.json``, and a deployment bundle (docker compose for
Besu, Kubo, PostgreSQL, two relays, two verifiers, and a Prometheus scrape configuration).

Floor 1: it imports only :mod:`common` and third-party libraries. Modules:

* :mod:`network.rlp` — a small RLP encoder (the one Ethereum serialisation Besu reads here);
* :mod:`network.trie` — the root of a Merkle-Patricia trie, for the genesis state root;
* :mod:`network.genesis` — QBFT ``extraData``, the genesis file and its block hash;
* :mod:`network.spec` — reading and checking the TOML spec;
* :mod:`network.nodekeys` — node keys: generated, encrypted at rest, unlocked for Besu;
* :mod:`network.besu` — Besu's per-node and shared configuration files;
* :mod:`network.bundle` — the compose file, the Prometheus configuration, the small YAML writer;
* :mod:`network.generate` — writes the whole directory.
"""
