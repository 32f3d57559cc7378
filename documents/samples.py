"""Fictitious sample records for every bundled document type.

For demos, tests and benchmarks. Every name, code and ID number here is invented (format-valid
only); none belongs to a real person or organisation.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["SAMPLE_ISSUER", "SAMPLE_UNIT_SALT", "SAMPLE_VALIDITY", "sample_business_licence", "sample_record"]

SAMPLE_ISSUER: dict[str, Any] = {
    "department": "0x" + "11" * 32,
    "chainId": 1337,
    "registry": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
}
SAMPLE_VALIDITY: dict[str, Any] = {"validFrom": "2026-01-01T00:00:00Z", "validUntil": None}
#: The sample unit's salt. A real unit's salt is random (chain.property.new_unit_salt) and known
#: only to its registration agency and the holders of its certificates; this one is public.
SAMPLE_UNIT_SALT = "0x" + "5a17" * 16

_SAMPLES: dict[str, dict[str, Any]] = {
    "business-license": {
        "creditCode": "91310115MA1K4XXX0Q",
        "name": "示例星辰科技有限公司",
        "nameEn": "Example Xingchen Technology Co., Ltd.",
        "entityType": "有限责任公司（自然人投资或控股）",
        "legalRepresentative": "张三",
        "registeredCapital": {"amount": "5000000.00", "currency": "CNY"},
        "paidInCapital": {"amount": "1000000.00", "currency": "CNY"},
        "establishmentDate": "2019-06-18",
        "businessTerm": {"from": "2019-06-18", "until": None},
        "address": "中国（上海）自由贸易试验区示例路100号5层",
        "businessScope": "一般项目：技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；"
        "软件开发；信息系统集成服务。（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）",
        "industry": "软件和信息技术服务业",
        "registrationAuthority": "示例市浦东新区市场监督管理局",
        "approvalDate": "2026-01-05",
        "licenceSerial": "31000000202601050001",
        "postalCode": "200120",
        "phone": "021-5555-0100",
    },
    "food-business-license": {
        "licenceNumber": "JY23101150000011",
        "operatorName": "示例味道餐饮管理有限公司",
        "creditCode": "91310115MA1K4YYY1R",
        "legalRepresentative": "李四",
        "residence": "示例市浦东新区示例路200号",
        "premises": "示例市浦东新区示例路200号1层",
        "mainFormat": "餐饮服务经营者",
        "businessItems": ["热食类食品制售", "冷食类食品制售", "自制饮品制售"],
        "supervisionAgency": "示例市浦东新区市场监督管理局示例所",
        "complaintHotline": "12315",
        "issuingAuthority": "示例市浦东新区市场监督管理局",
        "signatory": "王五",
        "issueDate": "2026-01-08",
        "expiryDate": "2031-01-07",
    },
    "property-certificate": {
        "certificateNumber": "沪（2026）浦东新区不动产权第0012345号",
        "unitNumber": "310115001002GB00123F00010101",
        "unitSalt": SAMPLE_UNIT_SALT,
        "owners": [
            {"name": "张三", "idType": "resident-id", "idNumber": "310115199001010018",
             "share": "50%"},
            {"name": "李四", "idType": "resident-id", "idNumber": "31011519910202002X",
             "share": "50%"},
        ],
        "coOwnership": "按份共有",
        "location": "示例市浦东新区示例路300弄5号1201室",
        "rightType": "国有建设用地使用权/房屋所有权",
        "rightNature": "出让/市场化商品房",
        "use": "城镇住宅用地/住宅",
        "area": {"land": "15021.00", "building": "89.37"},
        "term": {"from": "2010-03-01", "until": "2080-02-28"},
        "registrationAuthority": "示例市浦东新区不动产登记中心",
        "registrationDate": "2026-01-10",
    },
    "mortgage-certificate": {
        "certificateNumber": "沪（2026）浦东新区不动产证明第0004567号",
        "matter": "抵押权",
        "unitNumber": "310115001002GB00123F00010101",
        "unitSalt": SAMPLE_UNIT_SALT,
        "propertyCertificateNumber": "沪（2026）浦东新区不动产权第0012345号",
        "mortgagee": {"name": "示例银行股份有限公司浦东分行", "creditCode": "91310115MA1K4WWW2T"},
        "mortgagors": [
            {"name": "张三", "idNumber": "310115199001010018"},
            {"name": "李四", "idNumber": "31011519910202002X"},
        ],
        "location": "示例市浦东新区示例路300弄5号1201室",
        "mortgageType": "一般抵押",
        "securedAmount": {"amount": "2000000.00", "currency": "CNY"},
        "debtTerm": {"from": "2026-01-10", "until": "2056-01-09"},
        "registrationAuthority": "示例市浦东新区不动产登记中心",
        "registrationDate": "2026-01-12",
    },
    "marriage-certificate": {
        "certificateNumber": "J310115-2026-000123",
        "holderName": "张三",
        "registrationDate": "2026-02-14",
        "parties": [
            {"name": "张三", "gender": "男", "nationality": "中国",
             "dateOfBirth": "1990-01-01", "idNumber": "310115199001010018"},
            {"name": "李四", "gender": "女", "nationality": "中国",
             "dateOfBirth": "1991-02-02", "idNumber": "31011519910202002X"},
        ],
        "registrationAuthority": "示例市浦东新区民政局婚姻登记处",
    },
}


def sample_record(doc_type: str) -> dict[str, Any]:
    """A fresh copy of the fictitious sample record of ``doc_type``."""
    return copy.deepcopy(_SAMPLES[doc_type])


def sample_business_licence(serial: int) -> dict[str, Any]:
    """A 20-field fictitious business licence, varied by ``serial``."""
    record = sample_record("business-license")
    record["name"] = f"示例星辰科技第{serial}分公司"
    record["licenceSerial"] = f"310000002026{serial:08d}"
    record["registeredCapital"]["amount"] = f"{1000000 + serial}.00"
    return record
