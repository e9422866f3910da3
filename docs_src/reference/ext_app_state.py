# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-in for the service the sample uses without defining it.
class MyService:
    def get_data(self) -> dict:
        return {"data": [1, 2, 3]}


from ravyn import Ravyn, Request, get  # the sample uses them without importing them

app = Ravyn()

# Good - accessible throughout app
app.state.service = MyService()


# Access in handlers
@get("/data")
def get_data(request: Request) -> dict:
    return request.app.state.service.get_data()


app.add_route(get_data)  # the page never mounts it
