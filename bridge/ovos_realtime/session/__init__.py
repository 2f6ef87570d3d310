"""The Realtime state machine, used by the Realtime doors only: one session per connection owns
the session config, the conversation, the responses and the turn controller; it speaks GA-shaped
event dicts and knows nothing of WebSockets, dialects or OVOS."""
