"""Channel adapters: one module per chat platform, each a :class:`bot.channel.Channel`."""
