"""The engine: platform-free events, conversation turns, group commit and delivery."""
