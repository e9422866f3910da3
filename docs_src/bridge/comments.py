from ravyn import Include, Ravyn, post
from ravyn.bridge import EventBridge
from ravyn.utils.decorators import observable

# Everything the bridge may ever send: names and patterns of events.
bridge = EventBridge(events=["new_comment", "user.*"], live_page=True)


@post("/comments")
@observable(send=["new_comment"])
async def add_comment(post_id: int, content: str) -> dict:
    return {"post_id": post_id, "content": content}


app = Ravyn(routes=[add_comment, Include("/events", app=bridge)])
