# An event from the shell: XADD for the once-per-cluster listeners, PUBLISH for the
# broadcast ones (ravyn's own publisher does both, in one round trip).
EVENT='{"name": "user_registered", "id": "7f9c2a5e0b", "emitted_at": "2026-01-01T12:00:00Z", "payload": {"email": "ada@example.com", "user_id": 42}}'
redis-cli -p "${REDIS_PORT:-6379}" XADD ravyn:user_registered MAXLEN '~' 100000 '*' data "$EVENT"
redis-cli -p "${REDIS_PORT:-6379}" PUBLISH ravyn:user_registered "$EVENT"
