"""The `ovos-realtime` command."""

import argparse
import ipaddress
import logging
import sys

from ovos_realtime.config import ConfigError, Settings, load_settings
from ovos_realtime.threads import favour_the_event_loop
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
    return _with_shared_flags(overrides, args)


def load_serve_settings(args: argparse.Namespace) -> Settings:
    """`--llm-url` alone is enough for the one-line real brain: where the backend would be the
    embedded one, an endpoint URL given on the command line means the `openai` backend."""
    overrides = _serve_overrides(args)
    settings = load_settings(args.config, overrides=overrides)
    if args.llm_url is not None and args.llm_backend is None and settings.llm.backend == "embedded":
        overrides["llm"]["backend"] = "openai"
        settings = load_settings(args.config, overrides=overrides)
    return settings


def _with_shared_flags(overrides: dict, args: argparse.Namespace) -> dict:
    """--persona and --log-level, which every command that runs a server takes."""
    if args.persona is not None:
        overrides["personas"] = {"default": args.persona}
    if args.log_level:
        overrides["log_level"] = args.log_level
    return overrides


def _wyoming_overrides(args: argparse.Namespace) -> dict:
    wyoming: dict = {}
    if args.uri is not None:
        wyoming["uri"] = args.uri
    if args.zeroconf is not None:
        wyoming["zeroconf"] = args.zeroconf
    overrides: dict = {"wyoming": wyoming}
    if args.insecure:
        overrides["server"] = {"insecure": True}
    if args.llm_backend is not None:
        overrides["llm"] = {"backend": args.llm_backend}
    return _with_shared_flags(overrides, args)


def check_bind(settings: Settings) -> None:
    """Without an API key the server only listens on loopback, unless told --insecure."""
    server = settings.server
    if not server.api_key and not server.insecure and not _is_loopback(server.host):
        raise ConfigError(
            f"server.host: refusing to listen on {server.host} without an API key. Set "
            "server.api_key (--api-key or OVOS_REALTIME_SERVER__API_KEY), or pass --insecure."
        )


def check_wyoming_bind(settings: Settings) -> None:
    """Wyoming has no authentication: only loopback (or a unix socket) unless --insecure."""
    from urllib.parse import urlparse

    parsed = urlparse(settings.wyoming.uri)
    host = parsed.hostname or ""
    if parsed.scheme == "tcp" and not settings.server.insecure and not _is_loopback(host):
        raise ConfigError(
            f"wyoming.uri: refusing to listen on {host}: the Wyoming protocol has no "
            "authentication, so anyone who reaches the port can use it. Pass --insecure "
            "(server.insecure) to listen there anyway, e.g. for Home Assistant on your LAN."
        )


def run_wyoming(settings: Settings) -> None:
    """The Wyoming door alone, until SIGTERM or Ctrl-C."""
    import asyncio
    import signal

    from ovos_realtime.server.wyoming.service import WyomingDoor
    from ovos_realtime.wiring import build_assistant

    check_wyoming_bind(settings)
    favour_the_event_loop()  # before any worker thread starts: see ovos_realtime/threads.py

    async def main() -> None:
        assistant = build_assistant(settings)
        print(brain_notice(assistant.brains.default.describe(), settings), file=sys.stderr)
        door = WyomingDoor(assistant, settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await assistant.start()
        try:
            await door.start()
            log.info("ovos-realtime %s: Wyoming on %s", __version__, settings.wyoming.uri)
            await stop.wait()
        finally:
            await door.stop()
            await assistant.stop()

    asyncio.run(main())


def brain_notice(described: dict, settings: Settings) -> str:
    """Which brain runs, its limits and how to change it: printed once when `serve` starts."""
    from ovos_realtime.brain.notice import probe, summary

    said = summary(described)
    lines = [
        f"ovos-realtime {__version__}: brain = {said['brain']}",
        f"  limits: {said['limits']}",
        f"  change: {said['change']}" + (f": {said['command']}" if said["command"] else ""),
    ]
    if warning := probe(settings.llm):
        lines.append(f"  warning: {warning}")
    return "\n".join(lines)


def serve(settings: Settings) -> None:
    # The checks first: a refusal should not wait for the server's imports.
    check_bind(settings)
    if settings.wyoming.enabled:
        check_wyoming_bind(settings)
    favour_the_event_loop()  # before any worker thread starts: see ovos_realtime/threads.py

    import uvicorn

    from ovos_realtime.server.app import create_app
    from ovos_realtime.wiring import build_server

    deps = build_server(settings)
    # Printed, not logged: it must show at every --log-level.
    print(brain_notice(deps.assistant.brains.default.describe(), settings), file=sys.stderr)
    app = create_app(deps)
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
    serve_cmd.add_argument(
        "--llm-url",
        help="base URL of an OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 "
        "(Ollama); implies --llm-backend openai unless another backend is set",
    )
    serve_cmd.add_argument(
        "--ovos-bus", metavar="URL", help="OVOS messagebus, e.g. ws://127.0.0.1:8181/core"
    )
    serve_cmd.add_argument("--persona", metavar="NAME", help="the default persona")
    serve_cmd.add_argument("--log-level", choices=["debug", "info", "warning", "error"])

    wyoming_cmd = commands.add_parser(
        "wyoming",
        help="run the Wyoming server (Home Assistant: speech-to-text, text-to-speech, agent)",
        description="Run the Wyoming server alone: speech-to-text, text-to-speech and the "
        "persona agent as a conversation agent, for Home Assistant's Wyoming integration. "
        "(`serve` runs it beside the HTTP server when wyoming.enabled is true.)",
    )
    wyoming_cmd.add_argument("--config", metavar="FILE", help="YAML config file")
    wyoming_cmd.add_argument(
        "--uri", help="tcp://HOST:PORT or unix://PATH (default tcp://127.0.0.1:10300)"
    )
    wyoming_cmd.add_argument(
        "--zeroconf",
        nargs="?",
        const=True,
        default=None,
        metavar="NAME",
        help="advertise the server to Home Assistant over mDNS (optionally under NAME)",
    )
    wyoming_cmd.add_argument(
        "--insecure",
        action="store_true",
        help="allow listening on a non-loopback address (Wyoming has no authentication)",
    )
    wyoming_cmd.add_argument("--llm-backend", help="embedded | openai | package.module:Class")
    wyoming_cmd.add_argument("--persona", metavar="NAME", help="the default persona")
    wyoming_cmd.add_argument("--log-level", choices=["debug", "info", "warning", "error"])

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
            settings = load_serve_settings(args)
            logging.basicConfig(
                level=settings.log_level.upper(),
                format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            )
            serve(settings)
        elif args.command == "wyoming":
            settings = load_settings(args.config, overrides=_wyoming_overrides(args))
            logging.basicConfig(
                level=settings.log_level.upper(),
                format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            )
            run_wyoming(settings)
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
