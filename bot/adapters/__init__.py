"""Channel adapters: one module per chat platform, each implementing :class:`bot.channel.Channel`."""
