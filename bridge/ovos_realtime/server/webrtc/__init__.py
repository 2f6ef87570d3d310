"""The WebRTC door: `POST /v1/realtime/calls` (and beta `POST /v1/realtime`) answers an SDP
offer; Opus audio in and out over RTP (aiortc) and the Realtime events on the `oai-events` data
channel drive the same RealtimeSession as the WebSocket door.

sdp: the offer as it comes over HTTP; ice: candidates and ICE servers; tracks: the audio in and
out; call: one call's life; endpoints: the HTTP side. Only this package imports aiortc."""
