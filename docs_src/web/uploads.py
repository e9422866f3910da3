import pydantic

from ravyn import File, Ravyn, UploadFile, post


@post("/login")
async def login(username: str, password: str) -> dict:  # a JSON body or a form
    return {"username": username}


@post("/photos")
async def upload_photos(album: str, photos: list[UploadFile] = File(alias="photo")) -> dict:
    sizes = {photo.filename: len(await photo.read()) for photo in photos}
    return {"album": album, "sizes": sizes}


class Review(pydantic.BaseModel):
    stars: int = pydantic.Field(ge=1, le=5)
    text: str = ""


@post("/reviews")
async def review(review: Review) -> dict:  # a pydantic model is the JSON body
    return review.model_dump()


app = Ravyn(routes=[login, upload_photos, review])
