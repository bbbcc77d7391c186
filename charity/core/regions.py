"""China's 34 provincial-level divisions (省级行政区), for choices and filters.

``Organization.province`` stores the Chinese name; the English name is for display in
English. The two-digit code is the GB/T 2260 prefix (also digits 3-4 of a USCC).
"""

from __future__ import annotations

from typing import NamedTuple


class Province(NamedTuple):
    code: str
    name: str
    name_en: str


PROVINCES: tuple[Province, ...] = (
    Province("11", "北京市", "Beijing"),
    Province("12", "天津市", "Tianjin"),
    Province("13", "河北省", "Hebei"),
    Province("14", "山西省", "Shanxi"),
    Province("15", "内蒙古自治区", "Inner Mongolia"),
    Province("21", "辽宁省", "Liaoning"),
    Province("22", "吉林省", "Jilin"),
    Province("23", "黑龙江省", "Heilongjiang"),
    Province("31", "上海市", "Shanghai"),
    Province("32", "江苏省", "Jiangsu"),
    Province("33", "浙江省", "Zhejiang"),
    Province("34", "安徽省", "Anhui"),
    Province("35", "福建省", "Fujian"),
    Province("36", "江西省", "Jiangxi"),
    Province("37", "山东省", "Shandong"),
    Province("41", "河南省", "Henan"),
    Province("42", "湖北省", "Hubei"),
    Province("43", "湖南省", "Hunan"),
    Province("44", "广东省", "Guangdong"),
    Province("45", "广西壮族自治区", "Guangxi"),
    Province("46", "海南省", "Hainan"),
    Province("50", "重庆市", "Chongqing"),
    Province("51", "四川省", "Sichuan"),
    Province("52", "贵州省", "Guizhou"),
    Province("53", "云南省", "Yunnan"),
    Province("54", "西藏自治区", "Xizang (Tibet)"),
    Province("61", "陕西省", "Shaanxi"),
    Province("62", "甘肃省", "Gansu"),
    Province("63", "青海省", "Qinghai"),
    Province("64", "宁夏回族自治区", "Ningxia"),
    Province("65", "新疆维吾尔自治区", "Xinjiang"),
    Province("71", "台湾省", "Taiwan"),
    Province("81", "香港特别行政区", "Hong Kong"),
    Province("82", "澳门特别行政区", "Macao"),
)

PROVINCE_NAMES: frozenset[str] = frozenset(p.name for p in PROVINCES)
_BY_NAME = {p.name: p for p in PROVINCES}


def is_province(name: str) -> bool:
    return name in PROVINCE_NAMES


def province_label(name: str, english: bool = False) -> str:
    """The display name: Chinese, or English when the page is in English."""
    province = _BY_NAME.get(name)
    if province is None:
        return name
    return province.name_en if english else province.name


def province_choices(english: bool = False) -> list[tuple[str, str]]:
    """(stored value, label) pairs for a <select>, in GB/T 2260 order."""
    return [(p.name, p.name_en if english else p.name) for p in PROVINCES]
