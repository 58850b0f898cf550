#!/usr/bin/env python3
"""Writes fixtures/sigv4/vectors.json: AWS Signature Version 4 test vectors for S3 requests,
signed by botocore (the AWS SDK for Python) with a fixed clock. The Swift signer
(Sources/AuditLog/Archive/SigV4.swift) must produce the same headers (Tests: SigV4Tests).

    python3 scripts/sigv4-vectors.py > fixtures/sigv4/vectors.json
"""
import datetime
import hashlib
import json
from unittest import mock

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode

NOW = datetime.datetime(2026, 12, 1, 18, 30, 5)

CASES = [
    # name, method, host, key, query, headers, body, token, unsigned, region, secret
    ("put segment", "PUT", "127.0.0.1:5000", "audit/2f1c/segments/00000000000000000001.seg", [],
     {"If-None-Match": "*", "x-amz-checksum-sha256": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
      "x-amz-sdk-checksum-algorithm": "SHA256", "Content-Type": "application/octet-stream"},
     b"test", None, False, "us-east-1", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("get range", "GET", "127.0.0.1:5000", "audit/2f1c/segments/00000000000000000001.seg", [],
     {"Range": "bytes=0-1048575"}, b"", None, False, "us-east-1", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("head with session token", "HEAD", "s3.eu-west-1.amazonaws.com", "bucket/a/segments/00000000000000000001.idx", [],
     {"x-amz-checksum-mode": "ENABLED"}, b"", "FQoGZXIvYXdzEJr//////////wEaDOTOKEN+/=", False, "eu-west-1",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("list with query", "GET", "127.0.0.1:5000", "audit", [("list-type", "2"), ("prefix", "fleet/node a/"),
     ("continuation-token", "1/abc+def=="), ("max-keys", "1000")], {}, b"", None, False, "us-east-1",
     "secret"),
    ("key needing escapes", "PUT", "minio.local:9000", "bkt/pre fix/ü+=&?#%/x y.seg", [],
     {"Content-Type": "application/octet-stream", "X-Amz-Meta-Note": "  two   spaces  "},
     bytes(range(256)), None, False, "us-east-1", "s3cr3t+/with=chars"),
    ("unsigned payload", "PUT", "bucket.s3.us-east-1.amazonaws.com", "p/segments/00000000000000000001.seg", [],
     {"x-amz-sdk-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
      "x-amz-object-lock-mode": "COMPLIANCE", "x-amz-object-lock-retain-until-date": "2027-12-01T18:30:05Z"},
     b"", "session/token", True, "us-east-1", "AKIDsecret"),
    ("delete", "DELETE", "127.0.0.1:5000", "audit/2f1c/segments/00000000000000000001.seg", [], {}, b"", None,
     False, "us-west-2", "secret"),
]


def sign(case):
    name, method, host, key, query, headers, body, token, unsigned, region, secret = case
    path = "/" + percent_encode(key, safe="/~")
    qs = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in query)
    url = f"http://{host}{path}" + (f"?{qs}" if qs else "")
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    request.headers["Host"] = host
    if unsigned:
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
        request.url = request.url.replace("http://", "https://")
    credentials = Credentials("AKIDEXAMPLE", secret, token)
    signer = botocore.auth.S3SigV4Auth(credentials, "s3", region)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=NOW):
        canonical = None
        original = signer.canonical_request

        def capture(r):
            nonlocal canonical
            canonical = original(r)
            return canonical

        signer.canonical_request = capture
        signer.add_auth(request)
    out = {k: v for k, v in request.headers.items() if k.lower() in (
        "authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token")}
    return {
        "name": name, "method": method, "host": host, "key": key,
        "query": [[k, v] for k, v in query], "headers": [[k, v] for k, v in headers.items()],
        "body_hex": body.hex(), "access_key": "AKIDEXAMPLE", "secret_key": secret, "session_token": token,
        "unsigned_payload": unsigned, "region": region, "time": NOW.strftime("%Y%m%dT%H%M%SZ"),
        "expected_path": path, "expected_canonical_request": canonical,
        "expected": {k.lower(): v for k, v in out.items()},
    }


print(json.dumps({"generator": "botocore " + __import__("botocore").__version__,
                  "vectors": [sign(c) for c in CASES]}, indent=1, ensure_ascii=False))
