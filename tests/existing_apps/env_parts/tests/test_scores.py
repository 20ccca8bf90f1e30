import time
import uuid


def test_a_score_is_kept_and_ranked(client):
    player = f"p-{uuid.uuid4().hex[:8]}"
    client.post("/scores", json={"player": player, "points": 7})
    second = client.post("/scores", json={"player": player, "points": 5}).json()

    assert second == {"player": player, "total": 12}
    assert {"player": player, "points": 5} in client.get("/scores").json()


def test_the_leaderboard_ranks_the_highest_first(client):
    player = f"top-{uuid.uuid4().hex[:8]}"
    client.post(
        "/scores", json={"player": player, "points": time.time_ns() // 1_000_000}
    )

    ranked = client.get("/leaderboard").json()

    assert ranked[0]["player"] == player
    assert [e["points"] for e in ranked] == sorted(
        (e["points"] for e in ranked), reverse=True
    )


def test_an_unknown_route_is_404(client):
    assert client.get("/players").status_code == 404
