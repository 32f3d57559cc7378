"""The network spec: what is accepted, and one bilingual error naming the entry for what is not."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from common.errors import EregError
from network import errors as network_errors
from network.errors import SpecError
from network.spec import load_spec, parse_spec, static_hosts
from tests.network.conftest import EXAMPLE, example_spec, example_text

CJK = re.compile(r"[\u4e00-\u9fff]")


def spec_error(raw: dict[str, Any], **kwargs: Any) -> SpecError:
    with pytest.raises(SpecError) as info:
        parse_spec(raw, **kwargs)
    error = info.value
    assert error.message and CJK.search(error.message_zh), (error.message, error.message_zh)
    assert "\n" not in error.message and "\n" not in error.message_zh
    return error


def raw_example() -> dict[str, Any]:
    return tomllib.loads(example_text())


def test_the_liuan_example_has_the_four_demo_departments_one_validator_each() -> None:
    spec = example_spec()
    assert [d.code for d in spec.departments] == ["LA-SAMR", "LA-NATRES", "LA-TAX", "LA-HOUSING"]
    assert [d.validators for d in spec.departments] == [1, 1, 1, 1]
    assert spec.validator_count == 4 and spec.fault_tolerance == 1
    assert [r.name for r in spec.relayers] == ["relay-1", "relay-2"]
    assert static_hosts(spec) == ["172.28.10.11", "172.28.10.12", "172.28.10.13", "172.28.10.14"]


def test_the_example_as_shipped_is_refused_until_its_placeholders_are_replaced() -> None:
    with pytest.raises(SpecError) as info:
        load_spec(EXAMPLE)
    assert "department LA-SAMR: signer key" in info.value.message
    assert "placeholder" in info.value.message and "占位符" in info.value.message_zh


def test_without_keys_the_example_loads_for_from_registry(tmp_path: Path) -> None:
    text = re.sub(r"signer_keys = .*\n", "", EXAMPLE.read_text(encoding="utf-8"))
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    spec = load_spec(path, require_keys=False)
    assert all(d.signer_keys == () for d in spec.departments)
    with pytest.raises(SpecError, match="no signer key"):
        load_spec(path)
    keys = {d.code: [Account.create().address] for d in spec.departments}
    filled = spec.with_signer_keys(keys)
    assert [list(d.signer_keys) for d in filled.departments] == list(keys.values())


def test_a_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[network\nname = 1", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(broken)
    assert "not valid TOML" in info.value.message and "TOML" in info.value.message_zh


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        (lambda r: r["network"].update(typo_field=1), "[network]", "unknown entry typo_field"),
        (lambda r: r["network"].update(name="Liuan Network"), "[network].name", "lower-case"),
        (lambda r: r["network"].update(chain_id=1), "[network].chain_id", "Mainnet"),
        (lambda r: r["network"].update(chain_id="2018"), "[network].chain_id", "whole number"),
        (lambda r: r["network"].update(block_period_seconds=0), "[network].block_period_seconds", "between"),
        (lambda r: r["network"].update(gas_limit="lots"), "[network].gas_limit", "0x hex"),
        (lambda r: r["network"].update(gas_limit=1000), "[network].gas_limit", "between"),
        (lambda r: r["network"].update(subnet="10.0.0.0/30"), "[network].subnet", "/26"),
        (lambda r: r["network"].update(rpc_port=30303), "[network]", "must differ"),
        (lambda r: r.update(departments=[]), "[[departments]]", "at least one"),
        (lambda r: r["departments"][0].update(code="la samr"), "#1", "upper-case"),
        (lambda r: r["departments"][1].update(code="LA-SAMR"), "department LA-SAMR", "twice"),
        (lambda r: r["departments"][0].update(validators=0), "department LA-SAMR: validators", "between"),
        (lambda r: r["departments"][0].update(signer_keys="0x12"), "department LA-SAMR", "list of addresses"),
        (lambda r: r["departments"][0].update(hosts=["10.0.0.1", "10.0.0.2"]), "department LA-SAMR", "one IPv4"),
        (lambda r: r["departments"][0].update(hosts=["not-an-ip"]), "department LA-SAMR", "not an IPv4"),
        (lambda r: r["relayers"][1].update(name="relay-1"), "relayer relay-1", "twice"),
        (lambda r: r["relayers"][0].update(address="0xabc"), "relayer relay-1", "not an address"),
    ],
)
def test_a_bad_spec_is_one_bilingual_error_naming_the_entry(change: Any, where: str, words: str) -> None:
    raw = raw_example()
    change(raw)
    error = spec_error(raw)
    assert where in error.message and words in error.message, error.message


def test_an_address_may_belong_to_one_account_only() -> None:
    raw = raw_example()
    shared = raw["departments"][0]["signer_keys"][0]
    raw["departments"][1]["signer_keys"] = [shared.lower()]
    assert "listed twice" in spec_error(raw).message
    raw = raw_example()
    raw["relayers"][0]["address"] = raw["departments"][2]["signer_keys"][0]
    assert "also department LA-TAX's" in spec_error(raw).message


def test_given_hosts_are_the_validators_addresses() -> None:
    raw = raw_example()
    raw["departments"][0]["hosts"] = ["10.1.0.5"]
    spec = parse_spec(raw)
    assert static_hosts(spec) == ["10.1.0.5", "172.28.10.11", "172.28.10.12", "172.28.10.13"]


def test_a_host_in_the_subnet_must_be_a_fixed_address_and_is_not_handed_out_twice() -> None:
    raw = raw_example()
    raw["departments"][0]["hosts"] = ["172.28.10.200"]  # compose's own range
    assert "outside its fixed addresses" in spec_error(raw).message
    raw["departments"][0]["hosts"] = ["172.28.10.12"]
    assert static_hosts(parse_spec(raw)) == ["172.28.10.12", "172.28.10.11", "172.28.10.13", "172.28.10.14"]
    raw["departments"][1]["hosts"] = ["172.28.10.12"]
    assert "same host" in spec_error(raw).message


def test_every_network_error_has_a_code_chinese_words_and_a_status() -> None:
    classes = [
        obj
        for obj in vars(network_errors).values()
        if isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__ == network_errors.__name__
    ]
    assert len(classes) >= 5
    for cls in classes:
        assert issubclass(cls, EregError), cls
        assert re.match(r"^[A-Z][A-Z0-9_]*$", cls.code) and CJK.search(cls.message_zh), cls
        assert 400 <= cls.http_status <= 599, cls
