"""The assistant core: personas, their brains and tools, answers as cancellable streams."""
