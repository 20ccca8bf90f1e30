"""An app whose routes take the signed-in user from a bearer token of its own
making (an HMAC of the user's name), not the harness's."""

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

SECRET = b"accounts-test-secret"


@dataclass(frozen=True)
class Account:
    name: str


def make_token(account: Account) -> str:
    signature = hmac.new(SECRET, account.name.encode(), hashlib.sha256).hexdigest()
    return f"{account.name}.{signature}"


def current_account(
    credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))
    ],
) -> Account:
    if credentials is not None:
        name = credentials.credentials.rpartition(".")[0]
        expected = make_token(Account(name))
        if name and hmac.compare_digest(expected, credentials.credentials):
            return Account(name)
    raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"})


app = FastAPI(title="Accounts")


@app.get("/whoami")
def whoami(account: Annotated[Account, Depends(current_account)]) -> dict[str, str]:
    return {"name": account.name}
