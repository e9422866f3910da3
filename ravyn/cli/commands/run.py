"""``ravyn run``: serve an app with uvicorn, its lines and ravyn's in one log format."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ravyn.cli.command import CommandError, add_command
from ravyn.cli.logs import add_log_level, log_options
from ravyn.cli.targets import add_app_arguments, default_target, load_app, make_importable
from ravyn.logging import configure_logging, server_log_config


def register(commands: Any) -> None:
    parser = add_command(commands, "run", handler=run, help="serve an app with uvicorn")
    add_app_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind")
    parser.add_argument("--port", type=int, default=8000, help="port to bind")
    parser.add_argument("--reload", action="store_true", help="restart on code changes")
    parser.add_argument(
        "--reload-dir",
        action="append",
        dest="reload_dirs",
        metavar="DIR",
        help="directory --reload watches, repeatable (default: --app-dir)",
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--env-file", help="read RAVYN_* and other variables from this file")
    parser.add_argument("--root-path", default="", help="path prefix a proxy serves the app at")
    parser.add_argument(
        "--proxy-headers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="trust X-Forwarded-For/-Proto from --forwarded-allow-ips",
    )
    parser.add_argument(
        "--forwarded-allow-ips", default="127.0.0.1", help="proxies trusted, comma-separated or *"
    )
    parser.add_argument("--ssl-certfile", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--ssl-keyfile", help="the certificate's private key (PEM)")
    parser.add_argument("--ssl-keyfile-password", help="password of the private key")
    parser.add_argument("--ssl-ca-certs", help="CA bundle to verify client certificates")
    add_log_level(parser)


def run(args: argparse.Namespace) -> None:
    try:
        import uvicorn
    except ImportError:
        raise CommandError(
            "ravyn run needs uvicorn: install ravyn with its 'standard' extra (ravyn[standard])"
        ) from None
    if args.reload and args.workers > 1:
        raise CommandError("--reload runs one server process: drop --workers or --reload")
    if args.env_file:
        load_env_file(args.env_file)  # before the settings and the app read the environment
    if args.debug:
        os.environ["RAVYN_DEBUG"] = "true"  # tracebacks in the log and in error responses
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise CommandError("HTTPS needs both --ssl-certfile and --ssl-keyfile")
    json, level = log_options(args)
    configure_logging(json=json, level=level)
    app_dir = make_importable(args.app_dir)
    target = args.app or default_target(app_dir)
    if args.reload or args.workers > 1:
        # uvicorn imports the target in each process it starts: check it here, once, clearly.
        load_app(target, factory=args.factory, call_factory=False)
        app: Any = target
    else:
        app = load_app(target, factory=args.factory)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        reload=args.reload,
        reload_dirs=args.reload_dirs or ([str(app_dir)] if args.reload else None),
        workers=args.workers,
        factory=args.factory and isinstance(app, str),
        app_dir=str(app_dir),
        root_path=args.root_path,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        ssl_keyfile_password=args.ssl_keyfile_password,
        ssl_ca_certs=args.ssl_ca_certs,
        log_config=server_log_config(json, level),
        log_level=level.lower(),
        access_log=False,  # ravyn logs one access line per request, with its request id
    )


def load_env_file(path: str) -> None:
    """Put the file's variables into the environment (those already set win)."""
    if not Path(path).is_file():
        raise CommandError(f"--env-file {path}: no such file")
    try:
        from dotenv import load_dotenv
    except ImportError:
        raise CommandError(
            "--env-file needs python-dotenv: install ravyn with its 'standard' extra"
        ) from None
    load_dotenv(path, override=False)
