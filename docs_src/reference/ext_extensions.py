# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-in for the service the sample uses without defining it.
class MyService:
    def get_data(self) -> dict:
        return {"data": "from my service"}


from ravyn import Ravyn
from ravyn.extensions import Extension


class MyServiceExtension(Extension):
    def extend(self, app: Ravyn, **kwargs):
        # Initialize your service
        app.state.my_service = MyService()


app = Ravyn(extensions={"my_service": MyServiceExtension()})
