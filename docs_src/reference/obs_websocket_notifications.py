# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-ins for the names the sample uses without defining them. The listeners'
# out-of-scope variables (post_id, content) are their parameters, bound from the payload.
from dataclasses import dataclass

emails: list[tuple] = []


@dataclass
class Comment:
    id: int


@dataclass
class Post:
    author_email: str


async def save_comment(post_id: int, user_id: int, content: str) -> Comment:
    return Comment(id=7)


async def get_post(post_id: int) -> Post:
    return Post(author_email="author@example.com")


async def send_email(to: str, template: str) -> None:
    emails.append((to, template))


from ravyn import post, websocket
from ravyn import observable

# Global WebSocket connections store
active_connections = []


@websocket("/ws")
async def websocket_endpoint(websocket):
    """WebSocket endpoint for real-time notifications"""
    await websocket.accept()
    active_connections.append(websocket)

    try:
        while True:
            await websocket.receive_text()
    except:  # noqa: E722 - as the docs write it (WebSocketDisconnect when the client leaves)
        active_connections.remove(websocket)


@post("/comment")
@observable(send=["new_comment"])
async def add_comment(post_id: int, user_id: int, content: str) -> dict:
    # Save comment to database
    comment = await save_comment(post_id, user_id, content)

    return {
        "message": "Comment added!",
        "comment_id": comment.id,
        "post_id": post_id,
        "content": content,  # added: broadcast_new_comment binds it
    }


# Listener: Broadcast to all connected WebSocket clients
@observable(listen=["new_comment"])
async def broadcast_new_comment(post_id: int, content: str):
    """Send real-time notification to all connected clients"""
    print("🔔 Broadcasting new comment to all users...")

    notification = {"type": "new_comment", "post_id": post_id, "content": content}

    for connection in active_connections:
        await connection.send_json(notification)


# Listener: Send email to post author
@observable(listen=["new_comment"])
async def notify_post_author(post_id: int):
    """Email the post author about the new comment"""
    print("📧 Notifying post author...")
    post = await get_post(post_id)
    await send_email(post.author_email, template="new_comment")


# Listener: Update comment count cache
@observable(listen=["new_comment"])
async def update_comment_count(post_id: int):
    """Invalidate comment count cache"""
    print("🔄 Updating comment count...")
    from ravyn.core.caches.memory import InMemoryCache

    cache = InMemoryCache()
    await cache.delete(f"comment_count:{post_id}")
