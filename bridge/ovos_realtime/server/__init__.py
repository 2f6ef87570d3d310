"""The HTTP/WebSocket door: the Realtime WebSocket, REST endpoints, auth."""
