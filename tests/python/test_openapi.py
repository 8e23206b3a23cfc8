"""The served OpenAPI document is valid OpenAPI 3.1 and describes what the server answers."""

from __future__ import annotations

import requests
from openapi_spec_validator import validate


def test_document_is_valid_openapi_31(server: str) -> None:
    document = requests.get(f"{server}/api/v1/openapi.json", timeout=10).json()
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


def test_documented_item_fields_are_what_the_server_sends(server: str) -> None:
    document = requests.get(f"{server}/api/v1/openapi.json", timeout=10).json()
    schemas = document["components"]["schemas"]
    dataset = requests.get(f"{server}/api/v1/projects/coco-dataset/datasets", params={"name": "Default"}, timeout=10).json()[0]
    item = requests.get(f"{server}/api/v1/datasets/{dataset['id']}/items/7", timeout=10).json()
    for name, value in [("Item", item), ("File", item["file"]), ("Instance", item["instances"][0]), ("Dataset", dataset)]:
        schema = schemas[name]
        assert set(schema["required"]) <= set(value), f"{name} lacks required fields"
        assert set(value) <= set(schema["properties"]), f"{name} sends undocumented fields: {set(value) - set(schema['properties'])}"


def test_errors_have_the_documented_shape(server: str) -> None:
    reply = requests.get(f"{server}/api/v1/datasets/1/items/999", timeout=10)
    assert reply.status_code == 404
    error = reply.json()["error"]
    assert error["code"] == "position_out_of_range"
    assert "999" in error["message"]
    assert requests.get(f"{server}/api/v1/datasets/1/items/-3", timeout=10).status_code == 400


def test_query_parameters_read_as_requests_writes_them(server: str) -> None:
    """requests encodes a space in params as "+", as HTML forms do: the server reads it so."""
    dataset = requests.get(f"{server}/api/v1/projects/coco-dataset/datasets", params={"name": "Default"}, timeout=10).json()[0]
    query = "labels.person > 3"
    prepared = requests.Request("GET", f"{server}/api/v1/datasets/{dataset['id']}/export",
                                params={"query": query, "format": "coco"}).prepare()
    assert "+" in prepared.url, prepared.url
    exported = requests.Session().send(prepared, timeout=60)
    assert exported.status_code == 200, exported.text
    created = requests.post(f"{server}/api/v1/datasets/{dataset['id']}/slices", json={"query": query}, timeout=10)
    assert len(exported.json()["images"]) == created.json()["count"] > 0
