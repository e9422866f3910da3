import json

from ravyn.events import active_registry, observable


@observable(send=["user_registered", "user_audited"])
async def register(email: str) -> dict:
    return {"email": email}


@observable(listen=["user_registered"])
async def welcome(email: str): ...


@observable(listen=["user_deleted"])
async def cleanup(): ...


catalogue = active_registry().catalogue()

if __name__ == "__main__":
    print(json.dumps(catalogue, indent=2))
