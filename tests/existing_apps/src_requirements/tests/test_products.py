from fastapi.testclient import TestClient

from catalog.main import app

client = TestClient(app)


def test_a_known_product() -> None:
    assert client.get("/products/1").json() == {"name": "kettle", "price_cents": 2999}


def test_an_added_product_is_read_back() -> None:
    created = client.post("/products", json={"name": "mug", "price_cents": 450})

    assert created.status_code == 201
    product = client.get(f"/products/{created.json()['id']}").json()
    assert product == {"name": "mug", "price_cents": 450}


def test_an_unknown_product_is_404() -> None:
    assert client.get("/products/999").status_code == 404
