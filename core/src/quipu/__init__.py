"""quipu."""
