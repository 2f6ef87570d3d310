"""The OVOS messagebus side: conversations as OVOS Sessions, skill APIs and `ask_ovos` as server
tools, the `ovos` brain mode, and bus manners (speech start/end, stop).

Entry point: `ovos_realtime.ovos.extension.OvosExtension`, registered in `ovos_realtime.wiring`.
Kept import-light: importing this package pulls in nothing from OVOS."""
