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


def test_our_alipay_client_verifies_exactly_as_the_sdk_does(keys) -> None:  # type: ignore[no-untyped-def]
    """charity.payments.alipay._AliPay swaps only the RSA2 primitive under the SDK's
    ``_verify`` (pycryptodome → cryptography): same answer for a good signature, a changed
    parameter, another key's signature and a signature that is not base64."""
    import base64

    from alipay import AliPay
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from charity.payments.alipay import _AliPay

    private, public = keys
    options = {
        "appid": "2021000000000001",
        "app_notify_url": None,
        "app_private_key_string": private,
        "alipay_public_key_string": public,
        "sign_type": "RSA2",
    }
    sdk, ours = AliPay(**options), _AliPay(**options)
    params = {
        "app_id": "2021000000000001",
        "notify_id": "n1",
        "out_trade_no": "D42",
        "total_amount": "88.00",
        "trade_status": "TRADE_SUCCESS",
        "sign_type": "RSA2",
        "subject": "捐赠",
    }
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign_type")

    def sign(text: str, key_pem: str = private) -> str:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
        signature = key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
        return base64.b64encode(signature).decode()

    other_private, _ = _keys()
    cases = [
        (params, sign(message), True),
        ({**params, "total_amount": "0.01"}, sign(message), False),
        (params, sign(message, other_private), False),
        (params, base64.b64encode(b"x" * 256).decode(), False),
    ]
    for data, signature, expected in cases:
        assert sdk.verify(dict(data), signature) is expected
        assert ours.verify(dict(data), signature) is expected
    for client in (sdk, ours):  # not base64: both raise (a rejected notification)
        with pytest.raises(ValueError):
            client.verify(dict(params), "not base64 ~~~")
