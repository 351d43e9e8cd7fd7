"""The planner: words to verbs (offline intents first, an LLM when a context allows one)."""
