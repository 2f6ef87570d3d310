"""The OVOS messagebus side of the bridge: sessions as OVOS Sessions, skill APIs and `ask_ovos`
as server tools, the `ovos` brain mode, and bus manners (speech start/end, stop).

Entry point: `ovos_realtime.ovos.integration.install(state)`. Kept import-light: importing this
package pulls in nothing from OVOS."""
