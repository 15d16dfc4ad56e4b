"""Raw bodies the schema fuzzer cannot send (it writes JSON text, always valid UTF-8): every operation the
published schema says takes a body, public and organiser, is sent bytes that are not UTF-8 in the
places a decoder meets them, on the real service process, and answers 400 problem details, never 500.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from tests.test_fuzz import fuzzed_service  # noqa: F401 (the fixture: granian on a demo database)

# (what, bytes): invalid UTF-8 inside a value, a key, at the very start and end, and the classic
# traps: an overlong "/", a lone surrogate, a code point past U+10FFFF, a truncated sequence
BROKEN = [
    ("byte in a value", '{{"{key}": "caf\xff"}}'),
    ("byte in a key", '{{"\xfe{key}": "x"}}'),
    ("overlong slash", '{{"{key}": "\xc0\xaf"}}'),
    ("lone surrogate", '{{"{key}": "\xed\xa0\x80"}}'),
    ("past U+10FFFF", '{{"{key}": "\xf4\x90\x80\x80"}}'),
    ("truncated at the end", '{{"{key}": "\xe2\x82'),
    ("nothing but bytes", "\xff\xfe\xfd"),
]


def _body_operations(schema: dict) -> list[tuple[str, str, str]]:
    """(method, path with sample values, a property name) of every operation with a JSON body."""
    found = []
    components = schema.get("components", {}).get("schemas", {})
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
            if "$ref" in body_schema:
                body_schema = components[body_schema["$ref"].rsplit("/", 1)[1]]
            key = next(iter(body_schema.get("required") or body_schema.get("properties") or ["name"]))
            sample = re.sub(
                r"\{registration_id\}|\{message_id\}|\{mission_id\}|\{offer_id\}|\{request_id\}|\{interpreter_id\}"
                r"|\{application_id\}|\{organiser_id\}",
                "1",
                path,
            ).replace("{year}", "2027")
            found.append((method.upper(), re.sub(r"\{slug\}", "portugais-seconde-generation", sample), key))
    return found


def _send(base_url: str, method: str, path: str, body: bytes, token: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(
        f"{base_url}{path}",
        data=body,
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, answer.headers.get("content-type", ""), answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.get("content-type", ""), refused.read()


def test_every_operation_with_a_body_answers_400_to_bytes_that_are_not_utf8(fuzzed_service) -> None:  # noqa: F811
    base_url, (token, _) = fuzzed_service
    with urllib.request.urlopen(f"{base_url}/schema/openapi.json", timeout=20) as answer:
        schema = json.load(answer)
    operations = _body_operations(schema)
    assert len(operations) >= 9, operations
    assert any(not path.startswith("/api/organiser/") for _, path, _ in operations)
    for method, path, key in operations:
        for what, template in BROKEN:
            body = template.format(key=key).encode("latin-1")
            status, media_type, content = _send(base_url, method, path, body, token)
            refusal = (method, path, what, status, content[:200])
            assert (status, media_type) == (400, "application/problem+json"), refusal
            assert json.loads(content)["status"] == 400
