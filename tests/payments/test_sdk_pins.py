"""The wallet SDKs' gateway attributes we point at the simulators (docs/gifts.md).

Both SDKs fix their gateway in a private attribute: wechatpayv3's ``Core._gate_way`` and
python-alipay-sdk's ``AliPay._gateway``. The versions are pinned in pyproject.toml; if a
new version moves or renames the attribute, these fail before any payment goes astray."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _keys() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return _keys()


def test_pinned_versions() -> None:
    assert version("wechatpayv3") == "2.0.4"
    assert version("python-alipay-sdk") == "3.4.0"


def test_wechatpayv3_keeps_its_gateway_in_core_gate_way(keys) -> None:  # type: ignore[no-untyped-def]
    from wechatpayv3 import WeChatPay, WeChatPayType

    private, public = keys
    client = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid="1900000001",
        private_key=private,
        cert_serial_no="ABC123",
        appid="wx0000000000000000",
        apiv3_key="k" * 32,
        public_key=public,
        public_key_id="PUB_KEY_ID_0001",
    )
    assert client._core._gate_way == "https://api.mch.weixin.qq.com"
    # What the platform-certificate bootstrap relies on (charity/payments/wechatpay.py).
    for name in ("_public_key", "_public_key_id", "_certificates", "_update_certificates"):
        assert hasattr(client._core, name)


def test_python_alipay_sdk_keeps_its_gateway_in_gateway(keys) -> None:  # type: ignore[no-untyped-def]
    from alipay import AliPay

    private, public = keys
    client = AliPay(
        appid="2021000000000001",
        app_notify_url=None,
        app_private_key_string=private,
        alipay_public_key_string=public,
        sign_type="RSA2",
    )
    assert client._gateway == "https://openapi.alipay.com/gateway.do"


def test_our_settings_point_them_at_the_simulators(wallet_app, wechatpay_sim, alipay_sim) -> None:  # type: ignore[no-untyped-def]
    from charity.payments import alipay, wechatpay

    with wallet_app.app_context():
        assert wechatpay.gateway() == wechatpay_sim
        assert alipay.gateway() == f"{alipay_sim}/gateway.do"
