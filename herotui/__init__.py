"""Hero: a terminal-first, sovereign, voice-native personal operating environment."""

__version__ = "0.1.0"
