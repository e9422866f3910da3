"""The app of transports.md (Redis in production), tested on the in-memory transport."""


def test_register_sends_user_registered(client, captured_events):
    response = client.post("/register", json={"email": "ada@example.com"})
    client.wait_idle()  # the listeners run after the response: wait, never sleep
    assert response.status_code == 201
    captured_events.assert_emitted("user_registered", email="ada@example.com")
    assert [outcome.ok for outcome in captured_events.delivered("send_welcome_email")] == [True]
