"""Built-in persona definitions (JSON files beside this module), installed with ovos-realtime.

See ovos_realtime.persona for the format; files in the user's persona folder override these."""
