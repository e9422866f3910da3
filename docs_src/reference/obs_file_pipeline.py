# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-ins for the names the sample uses without defining them: files in memory. The
# listeners' out-of-scope `file_path` is their parameter, bound from each event's payload
# (the handler returns it, and each stage passes it on with trigger_event).
from ravyn import trigger_event

storage: dict[str, bytes] = {}
calls: list[tuple] = []
user_email = "uploader@example.com"


async def save_file(filename: str, file_data: bytes) -> str:
    storage[f"/uploads/{filename}"] = file_data
    return f"/uploads/{filename}"


async def validate_file_format(file_path: str) -> bool:
    return file_path.endswith((".png", ".csv"))


async def extract_data_from_file(file_path: str) -> bytes:
    return storage[file_path]


async def save_extracted_data(data: bytes) -> None:
    calls.append(("save_extracted_data", data))


def is_image_file(file_path: str) -> bool:
    return file_path.endswith(".png")


async def create_thumbnail(file_path: str) -> None:
    calls.append(("create_thumbnail", file_path))


async def send_email(to: str, template: str) -> None:
    calls.append(("send_email", to, template))


async def delete_file(file_path: str) -> None:
    storage.pop(file_path, None)


from ravyn import post
from ravyn import observable


# Stage 1: File upload
@post("/upload")
@observable(send=["file_uploaded"])
async def upload_file(filename: str, file_data: bytes) -> dict:
    # Save file to storage
    file_path = await save_file(filename, file_data)

    return {"message": "File uploaded!", "filename": filename, "path": file_path}


# Stage 2: Validate file
@observable(listen=["file_uploaded"])
async def validate_file(path: str):
    """Check file format and size"""
    print("✅ Validating file...")
    file_path = path
    is_valid = await validate_file_format(file_path)

    if is_valid:
        # Trigger next stage
        await trigger_event("file_validated", {"file_path": file_path})
    else:
        await trigger_event("file_invalid", {"file_path": file_path})


# Stage 3: Process file (only if valid)
@observable(listen=["file_validated"])
async def process_file(file_path: str):
    """Extract data from file"""
    print("⚙️ Processing uploaded file...")
    data = await extract_data_from_file(file_path)

    # Store extracted data
    await save_extracted_data(data)

    # Trigger next stage
    await trigger_event("file_processed")


# Stage 4: Generate thumbnail (parallel with processing)
@observable(listen=["file_validated"])
async def generate_thumbnail(file_path: str):
    """Create thumbnail if file is an image"""
    print("🖼️ Generating thumbnail...")

    if is_image_file(file_path):
        await create_thumbnail(file_path)


# Stage 5: Notify user of completion
@observable(listen=["file_processed"])
async def notify_completion():
    """Send email when processing completes"""
    print("📧 Notifying user of completion...")
    await send_email(user_email, template="file_processed")


# Error handler: Handle invalid files
@observable(listen=["file_invalid"])
async def handle_invalid_file(file_path: str):
    """Clean up and notify user of invalid file"""
    print("❌ Handling invalid file...")
    await delete_file(file_path)
    await send_email(user_email, template="file_invalid")
