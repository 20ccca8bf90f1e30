"""The accounts team's own fixtures: its users are its own to construct."""

import pytest
from accounts.main import Account


@pytest.fixture
def user() -> Account:
    return Account("ada")
