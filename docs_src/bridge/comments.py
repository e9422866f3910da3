from ravyn import Include, Ravyn, observable, post
from ravyn.bridge import EventBridge

# Everything the bridge may ever send: names and patterns of events.
bridge = EventBridge(events=["new_comment", "user.*"], live_page=True)


@post("/comments")
@observable(send=["new_comment"])
async def add_comment(post_id: int, content: str) -> dict:
    return {"post_id": post_id, "content": content}


@post("/users/{user_id}/rename")
@observable(send=["user.renamed"])  # matches the bridge's "user.*"
async def rename_user(user_id: int, name: str) -> dict:
    return {"user_id": user_id, "name": name}


app = Ravyn(routes=[add_comment, rename_user, Include("/events", app=bridge)])
