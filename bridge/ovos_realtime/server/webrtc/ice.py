"""ICE set-up: the host candidates the server offers and the STUN/TURN servers it uses."""

import ipaddress
import logging

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

from ovos_realtime.config import WebRTCSettings

LOG = logging.getLogger(__name__)

_AIOICE_HOST_ADDRESSES = aioice.ice.get_host_addresses


def fix_host_addresses(addresses: list[str] | None) -> None:
    """Offer host candidates on these addresses only (None: aioice's own choice).

    aioice leaves 127.0.0.1 out of its host candidates and has no option for it, so its
    address lookup is replaced, for this process, by the configured list."""
    if addresses is None:
        aioice.ice.get_host_addresses = _AIOICE_HOST_ADDRESSES
        return
    fixed = list(addresses)

    def configured(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in fixed if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = configured
    LOG.info("WebRTC host candidates fixed to %s", fixed)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:  # a host name, e.g. a browser's mDNS "<uuid>.local"
        return False


def keep_reachable_candidates(sdp: str, addresses: list[str] | None) -> str:
    """The offer without the peer's non-loopback candidates when we offer loopback ones only.

    Our checks would otherwise go out to the peer's other interfaces, which a loopback-only
    server can never pair with anyway (and which tests on this machine may not send to)."""
    if not addresses or not all(_is_loopback(a) for a in addresses):
        return sdp
    kept = []
    for line in sdp.split("\r\n"):
        fields = line.split()
        if line.startswith("a=candidate:") and len(fields) > 4 and not _is_loopback(fields[4]):
            LOG.debug("ignoring the peer's candidate on %s: we offer loopback only", fields[4])
            continue
        kept.append(line)
    return "\r\n".join(kept)


def rtc_configuration(settings: WebRTCSettings) -> RTCConfiguration:
    """Explicit ICE servers: none by default (aiortc would otherwise ask Google's STUN)."""
    servers = [
        RTCIceServer(
            urls=entry["urls"],
            username=entry.get("username"),
            credential=entry.get("credential"),
        )
        for entry in settings.ice_servers
    ]
    return RTCConfiguration(iceServers=servers)
