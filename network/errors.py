"""Errors of the network generator, below the project's root: each says what is wrong in both languages.

::

    EregError
     └── NetworkError          400  NETWORK_ERROR
          ├── SpecError        400  NETWORK_SPEC_INVALID    the TOML spec cannot be used
          ├── OutputNotEmpty   409  NETWORK_OUTPUT_NOT_EMPTY
          ├── GenesisError     400  GENESIS_UNSUPPORTED     a genesis whose block hash is not computed here
          └── NodeKeyError     400  NODE_KEY_ERROR          a node key file: unreadable, wrong password
"""

from __future__ import annotations

from common.errors import EregError


class NetworkError(EregError):
    """Root of the generator's errors; ``message`` English, ``message_zh`` Chinese, both this error's own."""

    code = "NETWORK_ERROR"
    message_zh = "网络配置生成失败"
    http_status = 400

    def __init__(self, english: str, chinese: str) -> None:
        super().__init__(english, chinese)


class SpecError(NetworkError):
    """The network spec (TOML) is missing, malformed or inconsistent."""

    code = "NETWORK_SPEC_INVALID"
    message_zh = "网络配置文件有误"

    def __init__(self, where: str, english: str, chinese: str) -> None:
        super().__init__(f"{where}: {english}", f"{where}：{chinese}")
        self.where = where


class OutputNotEmpty(NetworkError):
    """The output directory holds files already (``--force`` overwrites)."""

    code = "NETWORK_OUTPUT_NOT_EMPTY"
    message_zh = "输出目录不为空"
    http_status = 409


class GenesisError(NetworkError):
    """A genesis file this package cannot hash (a header form it does not build)."""

    code = "GENESIS_UNSUPPORTED"
    message_zh = "无法计算该创世区块的哈希"


class NodeKeyError(NetworkError):
    """A node key file cannot be read or decrypted."""

    code = "NODE_KEY_ERROR"
    message_zh = "节点密钥文件有误"
