"""The OpenAPI document describes what the running gateway really takes and answers."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from conftest import ROOT, GatewayProcess
from support import sealed_followup, sealed_report, solved

from lianxin import keys as keys_mod
from lianxin.protocol import Token

COMMITTED = json.loads((ROOT / "portal/docs/api/openapi.json").read_text())


def conforms(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """The JSON Schema keywords the document uses, checked by hand: the faults found."""
    faults = []
    kind = schema.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool}
    if kind == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        return [f"{where}: not an integer"]
    if kind in types and not isinstance(value, types[kind]):
        return [f"{where}: not {kind}"]
    if "const" in schema and value != schema["const"]:
        faults.append(f"{where}: not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        faults.append(f"{where}: not one of {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        faults.append(f"{where}: does not match {schema['pattern']}")
    if "minimum" in schema and value < schema["minimum"]:
        faults.append(f"{where}: below {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        faults.append(f"{where}: above {schema['maximum']}")
    if kind == "array":
        if len(value) < schema.get("minItems", 0):
            faults.append(f"{where}: too few items")
        for i, item in enumerate(value):
            faults += conforms(item, schema["items"], f"{where}[{i}]")
    if kind == "object":
        properties = schema.get("properties", {})
        faults += [f"{where}.{k}: missing" for k in schema.get("required", []) if k not in value]
        if schema.get("additionalProperties") is False:
            faults += [f"{where}.{k}: not allowed" for k in value if k not in properties]
        for key, item in value.items():
            if key in properties:
                faults += conforms(item, properties[key], f"{where}.{key}")
    return faults


def answer_schema(path: str, status: int, method: str = "post") -> dict[str, Any]:
    answer = COMMITTED["paths"][path][method]["responses"][str(status)]
    return next(iter(answer["content"].values()))["schema"]  # type: ignore[no-any-return]


def body_schema(path: str) -> dict[str, Any]:
    body = COMMITTED["paths"][path]["post"]["requestBody"]
    return body["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def test_the_served_document_is_the_committed_one(gateway: GatewayProcess) -> None:
    assert httpx.get(gateway.url + "/v1/openapi.json").json() == COMMITTED
    answer = body_schema("/v1/reports")["properties"]["pow"]["properties"]["answer"]
    assert answer == {"type": "integer", "minimum": 0, "maximum": 2**53 - 1}


def test_real_answers_and_bodies_fit_their_schemas(gateway: GatewayProcess) -> None:
    keys = httpx.get(gateway.url + "/v1/keys")
    assert conforms(keys.json(), answer_schema("/v1/keys", 200, "get")) == []
    challenge = httpx.post(gateway.url + "/v1/challenges")
    assert conforms(challenge.json(), answer_schema("/v1/challenges", 201)) == []

    keyring = keys_mod.load_keyring(gateway.keys_dir)
    report = sealed_report(keyring)
    bodies = [{"envelope": report.to_json(), "pow": solved(gateway.url, report)} for _ in "12"]
    assert conforms(bodies[0], body_schema("/v1/reports")) == []
    assert conforms(bodies[0], body_schema("/v1/followups")) != []  # a report is not a follow-up
    answers = [httpx.post(gateway.url + "/v1/reports", json=b, timeout=30) for b in bodies]
    for answer, status in zip(answers, (201, 200), strict=True):
        assert answer.status_code == status
        assert conforms(answer.json(), answer_schema("/v1/reports", status)) == []

    token = Token.parse(answers[0].json()["token"])
    followup = sealed_followup(keyring, token.keys(), {"type": "material", "text": "补充"})
    bodies = [{"envelope": followup.to_json(), "pow": solved(gateway.url, followup)} for _ in "12"]
    assert conforms(bodies[0], body_schema("/v1/followups")) == []
    assert conforms(bodies[0], body_schema("/v1/reports")) != []
    answers = [httpx.post(gateway.url + "/v1/followups", json=b, timeout=30) for b in bodies]
    for answer, status in zip(answers, (201, 200), strict=True):
        assert answer.status_code == status
        assert conforms(answer.json(), answer_schema("/v1/followups", status)) == []

    headers = {"content-type": "application/json"}
    refused = httpx.post(gateway.url + "/v1/reports", content=b"[", headers=headers)
    assert refused.status_code == 400
    assert conforms(refused.json(), answer_schema("/v1/reports", 400)) == []
