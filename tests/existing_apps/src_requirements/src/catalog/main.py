"""A product catalog, run from src/ (its requirements live there too)."""

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI(title="Catalog")


class Product(BaseModel):
    name: str
    price_cents: int


PRODUCTS: dict[int, Product] = {1: Product(name="kettle", price_cents=2999)}


@app.get("/products/{product_id}")
def read_product(product_id: int) -> Product:
    if product_id not in PRODUCTS:
        raise HTTPException(status_code=404, detail="no such product")
    return PRODUCTS[product_id]


@app.post("/products", status_code=201)
def add_product(product: Product) -> dict[str, int]:
    product_id = max(PRODUCTS, default=0) + 1
    PRODUCTS[product_id] = product
    return {"id": product_id}
