"""Signature functions against the vendors' published test vectors (shared/reference: hubspot.md §10,
zendesk.md §9.4), plus the rules around them: 5-minute window, URI decoding, proxies."""

from __future__ import annotations

import pytest

from onboard_sync.webhooks import signatures as sig

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
BODY = "{'example_field':'example_value'}"
URL = "https://www.example.com/webhook_uri"
DOC_V1_BODY = (
    '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
    '"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
    '"changeFlag":"NEW","appId":54321}]'
)


def test_hubspot_published_vectors() -> None:
    assert sig.hubspot_v1(SECRET, BODY) == "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
    assert sig.hubspot_v2(SECRET, "POST", URL, BODY) == (
        "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
    )
    assert sig.hubspot_v2(SECRET, "GET", URL, "") == (
        "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
    )
    assert sig.hubspot_v3(SECRET, "POST", URL, BODY, 1693657560000) == "K36dawei4A+QBNolUOqo7s91KQDWQ5MXZ/QufNYuk/Y="
    assert sig.hubspot_v1(SECRET, DOC_V1_BODY) == "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"


def test_zendesk_vector_timestamp_then_body() -> None:
    secret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
    expected = "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0="
    assert sig.zendesk_signature(secret, "2021-07-25T10:00:00Z", '{"say": "hello"}') == expected
    headers = {"X-Zendesk-Webhook-Signature": expected, "X-Zendesk-Webhook-Signature-Timestamp": "2021-07-25T10:00:00Z"}
    now = 1627207200.0  # 2021-07-25T10:00:00Z
    sig.verify_zendesk(secret, body=b'{"say": "hello"}', headers=headers, now=now + 10)
    with pytest.raises(sig.SignatureError) as stale:
        sig.verify_zendesk(secret, body=b'{"say": "hello"}', headers=headers, now=now + 301)
    assert stale.value.reason == "stale"
    with pytest.raises(sig.SignatureError) as forged:
        sig.verify_zendesk(secret, body=b'{"say": "bye"}', headers=headers, now=now)
    assert forged.value.reason == "bad-signature"


def _v3_headers(body: str, stamp: int, url: str = URL, secret: str = SECRET) -> dict[str, str]:
    return {
        "X-HubSpot-Signature-v3": sig.hubspot_v3(secret, "POST", url, body, stamp),
        "X-HubSpot-Request-Timestamp": str(stamp),
    }


def test_verify_hubspot_v3_window_and_forgery() -> None:
    stamp = 1693657560000
    now = stamp / 1000
    headers = _v3_headers(BODY, stamp)
    assert sig.verify_hubspot(SECRET, method="POST", uri=URL, body=BODY.encode(), headers=headers, now=now) == "v3"
    # four minutes 59 later: fine; five minutes and one second later: a replay
    sig.verify_hubspot(SECRET, method="POST", uri=URL, body=BODY.encode(), headers=headers, now=now + 299)
    with pytest.raises(sig.SignatureError) as stale:
        sig.verify_hubspot(SECRET, method="POST", uri=URL, body=BODY.encode(), headers=headers, now=now + 301)
    assert stale.value.reason == "stale"
    with pytest.raises(sig.SignatureError) as forged:
        sig.verify_hubspot("other-secret", method="POST", uri=URL, body=BODY.encode(), headers=headers, now=now)
    assert forged.value.reason == "bad-signature"
    with pytest.raises(sig.SignatureError) as tampered:
        sig.verify_hubspot(SECRET, method="POST", uri=URL, body=BODY.encode() + b" ", headers=headers, now=now)
    assert tampered.value.reason == "bad-signature"
    with pytest.raises(sig.SignatureError) as missing:
        sig.verify_hubspot(SECRET, method="POST", uri=URL, body=b"", headers={}, now=now)
    assert missing.value.reason == "missing-signature"


def test_verify_hubspot_v1_and_v2_for_older_apps() -> None:
    v1 = {"X-HubSpot-Signature": sig.hubspot_v1(SECRET, BODY), "X-HubSpot-Signature-Version": "v1"}
    assert sig.verify_hubspot(SECRET, method="POST", uri=URL, body=BODY.encode(), headers=v1, now=0) == "v1"
    v2 = {"X-HubSpot-Signature": sig.hubspot_v2(SECRET, "POST", URL, BODY), "X-HubSpot-Signature-Version": "v2"}
    assert sig.verify_hubspot(SECRET, method="POST", uri=URL, body=BODY.encode(), headers=v2, now=0) == "v2"
    with pytest.raises(sig.SignatureError):
        sig.verify_hubspot(SECRET, method="POST", uri=URL + "?x=1", body=BODY.encode(), headers=v2, now=0)


def test_hubspot_uri_decoding_table() -> None:
    encoded = "https://h.example/p%3Aa%2Fb%3Fc%40d%21e%24f%27g%28h%29i%2Aj%2Ck%3Bl%20m%2a"
    assert sig.hubspot_decode_uri(encoded) == "https://h.example/p:a/b?c@d!e$f'g(h)i*j,k;l%20m*"
    # the signature is over the decoded URI: a sender that signed the decoded form verifies
    decoded_url = "https://h.example/hook?a=b:c"
    stamp = 1693657560000
    headers = _v3_headers(BODY, stamp, url=decoded_url)
    sig.verify_hubspot(
        SECRET,
        method="POST",
        uri="https://h.example/hook?a=b%3Ac",
        body=BODY.encode(),
        headers=headers,
        now=stamp / 1000,
    )


def test_public_url_behind_a_proxy() -> None:
    fwd = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sync.example.com"}
    assert sig.public_url("http", "127.0.0.1:8787", "/webhooks/hubspot", "", fwd, trust_forwarded=True) == (
        "https://sync.example.com/webhooks/hubspot"
    )
    assert sig.public_url("http", "127.0.0.1:8787", "/webhooks/hubspot", "a=1", fwd, trust_forwarded=False) == (
        "http://127.0.0.1:8787/webhooks/hubspot?a=1"
    )
    assert (
        sig.public_url(
            "http", "127.0.0.1", "/webhooks/hubspot", "", fwd, trust_forwarded=True, base_url="https://x.example/"
        )
        == "https://x.example/webhooks/hubspot"
    )


def test_callout_hmac_roundtrip_and_stale() -> None:
    body = b'{"object":"Opportunity","recordId":"0065Y00001Suvw6QAB"}'
    stamp = "1700000000"
    headers = {
        "X-Onboard-Sync-Signature": sig.callout_signature("s3cret", stamp, body),
        "X-Onboard-Sync-Timestamp": stamp,
    }
    sig.verify_callout("s3cret", body=body, headers=headers, now=1700000100)
    with pytest.raises(sig.SignatureError) as stale:
        sig.verify_callout("s3cret", body=body, headers=headers, now=1700000400)
    assert stale.value.reason == "stale"
    with pytest.raises(sig.SignatureError) as forged:
        sig.verify_callout("other", body=body, headers=headers, now=1700000000)
    assert forged.value.reason == "bad-signature"
