"""The session engine: one per connection. Owns the session config, the conversation and the
responses; speaks GA-shaped event dicts and knows nothing of WebSockets or dialects."""
