# Verbatim from the reference docs: imports and style kept as users copy them.
# ruff: noqa: E402, E722, F401, F811, I001, B904
# Stand-ins for the names the sample uses without defining them: they record their calls.
calls: list[str] = []


async def cleanup_logs(days: int) -> None:
    calls.append(f"cleanup_logs:{days}")


async def move_to_archive(days: int) -> None:
    calls.append(f"move_to_archive:{days}")


async def delete_temp_files() -> None:
    calls.append("delete_temp_files")


async def run_db_optimization() -> None:
    calls.append("run_db_optimization")


async def send_admin_email(template: str) -> None:
    calls.append(f"send_admin_email:{template}")


from ravyn import Ravyn
from ravyn import observable
from ravyn.contrib.schedulers.asyncz.decorator import scheduler

app = Ravyn()


# Scheduled task sends event
@scheduler(name="daily_cleanup", cron="0 2 * * *")  # Runs at 2 AM daily
@observable(send=["daily_cleanup"])
async def run_daily_cleanup():
    """Trigger daily cleanup workflow"""
    print("🧹 Starting daily cleanup workflow...")
    return {"status": "cleanup_started"}


# Cleanup listeners execute in parallel
@observable(listen=["daily_cleanup"])
async def delete_old_logs():
    """Remove log files older than 30 days"""
    print("🗑️ Deleting old log files...")
    await cleanup_logs(days=30)


@observable(listen=["daily_cleanup"])
async def archive_data():
    """Move old data to cold storage"""
    print("📦 Archiving old data...")
    await move_to_archive(days=90)


@observable(listen=["daily_cleanup"])
async def clear_temp_files():
    """Clear temporary files"""
    print("🧼 Clearing temporary files...")
    await delete_temp_files()


@observable(listen=["daily_cleanup"])
async def optimize_database():
    """Run database optimization"""
    print("⚡ Optimizing database tables...")
    await run_db_optimization()


# Send notification when all cleanup tasks complete
@observable(listen=["daily_cleanup"])
async def send_cleanup_report():
    """Email admin with cleanup summary"""
    print("📧 Sending cleanup report...")
    await send_admin_email(template="cleanup_report")
