# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-ins for the names the sample uses without defining them: they record their calls.
# The listeners' out-of-scope variables (email, user_id) are their parameters here: ravyn
# binds them from the event's payload, the dict the handler returned.
calls: list[tuple] = []


async def create_user_in_database(email: str, name: str, password: str) -> int:
    return 42


async def send_email(to: str, template: str) -> None:
    calls.append(("send_email", to, template))


async def assign_role(user_id: int, role: str) -> None:
    calls.append(("assign_role", user_id, role))


async def log_analytics_event(name: str, user_id: int) -> None:
    calls.append(("log_analytics_event", name, user_id))


async def create_profile(user_id: int) -> None:
    calls.append(("create_profile", user_id))


from ravyn import Ravyn, post
from ravyn import observable


# Registration endpoint - sends event
@post("/register")
@observable(send=["user_registered"])
async def register_user(email: str, name: str, password: str) -> dict:
    # Create user in database...
    user_id = await create_user_in_database(email, name, password)

    return {"message": "User registered successfully!", "user_id": user_id, "email": email}


# Listener 1: Send welcome email
@observable(listen=["user_registered"])
async def send_welcome_email(email: str):
    """Send personalized welcome email to new user"""
    print("📧 Sending welcome email...")
    # Email sending logic here
    await send_email(to=email, template="welcome")


# Listener 2: Assign default roles
@observable(listen=["user_registered"])
async def assign_default_roles(user_id: int):
    """Assign default 'user' role and permissions"""
    print("🔒 Assigning default roles to the user...")
    # Role assignment logic here
    await assign_role(user_id, role="user")


# Listener 3: Log registration
@observable(listen=["user_registered"])
async def log_registration(user_id: int):
    """Log registration event for analytics"""
    print("📊 Logging user registration...")
    # Analytics logging here
    await log_analytics_event("user_registered", user_id=user_id)


# Listener 4: Create user profile
@observable(listen=["user_registered"])
async def create_user_profile(user_id: int):
    """Initialize empty user profile"""
    print("👤 Creating user profile...")
    await create_profile(user_id)


app = Ravyn()
app.add_route(register_user)
