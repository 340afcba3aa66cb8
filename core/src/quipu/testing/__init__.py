"""Test helpers for quipu and its plugins (Anthropic API emulator, fixtures)."""
