"""The `ovos-realtime` command."""

import argparse
import ipaddress
import logging
import sys

from ovos_realtime.config import ConfigError, Settings, load_settings
from ovos_realtime.version import __version__

log = logging.getLogger("ovos_realtime")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve_overrides(args: argparse.Namespace) -> dict:
    server: dict = {}
    for key in ("host", "port", "api_key"):
        if getattr(args, key) is not None:
            server[key] = getattr(args, key)
    if args.insecure:
        server["insecure"] = True
    llm: dict = {}
    for key in ("backend", "model", "url"):
        value = getattr(args, f"llm_{key}")
        if value is not None:
            llm[key] = value
    overrides: dict = {"server": server, "llm": llm}
    if args.ovos_bus is not None:
        overrides["ovos"] = {"bus_url": args.ovos_bus}
    if args.persona is not None:
        overrides["personas"] = {"default": args.persona}
    if args.log_level:
        overrides["log_level"] = args.log_level
    return overrides


def check_bind(settings: Settings) -> None:
    """Without an API key the server only listens on loopback, unless told --insecure."""
    server = settings.server
    if not server.api_key and not server.insecure and not _is_loopback(server.host):
        raise ConfigError(
            f"server.host: refusing to listen on {server.host} without an API key. Set "
            "server.api_key (--api-key or OVOS_REALTIME_SERVER__API_KEY), or pass --insecure."
        )


def serve(settings: Settings) -> None:
    import uvicorn

    from ovos_realtime.server.app import create_app
    from ovos_realtime.wiring import build_server

    check_bind(settings)
    app = create_app(build_server(settings))
    log.info(
        "ovos-realtime %s on http://%s:%d", __version__, settings.server.host, settings.server.port
    )
    uvicorn.run(
        app,
        host=settings.server.host,
        port=settings.server.port,
        log_level=settings.log_level,
        # The transport takes frames well past our event limit, so that an oversized event
        # gets an `error` event instead of a closed connection.
        ws_max_size=max(64 * 1024 * 1024, 4 * settings.server.max_event_bytes),
        ws_per_message_deflate=False,
    )


def run_models(args: argparse.Namespace) -> None:
    import json

    from ovos_realtime import model_catalog

    settings = load_settings(args.config)
    if args.action == "pull":
        if not args.name:
            raise ConfigError("models pull: name the model to pull (see `ovos-realtime models`)")
        print(f"pulled {args.name} into {model_catalog.pull(settings, args.name)}")
        return
    models = model_catalog.list_all(settings)
    print(json.dumps(models, indent=2) if args.json else model_catalog.format_table(models))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ovos-realtime",
        description="A local OpenAI Realtime API server built on OpenVoiceOS plugins.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve_cmd = commands.add_parser(
        "serve",
        help="run the Realtime server",
        description="Run the Realtime server (WebSocket /v1/realtime and REST). Settings: "
        "defaults < --config file < OVOS_REALTIME_* environment < these flags.",
    )
    serve_cmd.add_argument("--config", metavar="FILE", help="YAML config file")
    serve_cmd.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve_cmd.add_argument("--api-key", dest="api_key", metavar="KEY", help="require this API key")
    serve_cmd.add_argument(
        "--insecure",
        action="store_true",
        help="allow listening on a non-loopback address without an API key",
    )
    serve_cmd.add_argument("--llm-backend", help="embedded | openai | package.module:Class")
    serve_cmd.add_argument("--llm-model", help="GGUF path (embedded) or model name (openai)")
    serve_cmd.add_argument("--llm-url", help="base URL of an OpenAI-compatible endpoint")
    serve_cmd.add_argument(
        "--ovos-bus", metavar="URL", help="OVOS messagebus, e.g. ws://127.0.0.1:8181/core"
    )
    serve_cmd.add_argument("--persona", metavar="NAME", help="the default persona")
    serve_cmd.add_argument("--log-level", choices=["debug", "info", "warning", "error"])

    models_cmd = commands.add_parser(
        "models",
        help="list the models and voices the engines can use; pull one",
        description="List every model and voice the configured engines can resolve, and "
        "where each comes from (a PyPI package, a configured path, the user cache, or missing). "
        "`models pull NAME` downloads one from the model hub into the user cache: the only "
        "command that ever downloads a model.",
    )
    models_cmd.add_argument("--config", metavar="FILE", help="YAML config file")
    models_cmd.add_argument("--json", action="store_true", help="print JSON instead of a table")
    models_cmd.add_argument("action", nargs="?", choices=["list", "pull"], default="list")
    models_cmd.add_argument("name", nargs="?", help="the model to pull")

    config_cmd = commands.add_parser(
        "config",
        help="print the effective configuration",
        description="Print the effective configuration (file + environment) as YAML, "
        "with secrets masked, and exit non-zero if it is invalid.",
    )
    config_cmd.add_argument("--config", metavar="FILE", help="YAML config file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            settings = load_settings(args.config, overrides=_serve_overrides(args))
            logging.basicConfig(
                level=settings.log_level.upper(),
                format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            )
            serve(settings)
        elif args.command == "models":
            run_models(args)
        elif args.command == "config":
            import yaml

            settings = load_settings(args.config)
            data = settings.model_dump()
            for section in ("server", "llm"):
                if data[section].get("api_key"):
                    data[section]["api_key"] = "***"
            print(yaml.safe_dump(data, sort_keys=False), end="")
    except ConfigError as exc:
        print(f"ovos-realtime: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"ovos-realtime: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
