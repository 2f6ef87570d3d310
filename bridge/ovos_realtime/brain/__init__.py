"""The brain: an LLM behind one small streaming interface, plus what turns a conversation into
its prompt. Backends: embedded llama.cpp (default) and any OpenAI-compatible endpoint."""
