"""Plugins that ship with the core and are registered before discovery."""
