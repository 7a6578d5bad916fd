"""The engine side of AI providers: settings, prompts, schemas, validation, the provider chain."""
