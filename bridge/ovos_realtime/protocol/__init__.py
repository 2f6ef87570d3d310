"""The OpenAI Realtime wire protocol: event types, dialects (GA and beta), errors.

This layer only translates. It knows the openai SDK's types and nothing of OVOS or of the engines.
"""
