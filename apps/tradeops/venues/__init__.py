"""Trading venues reached through ccxt: `client` opens them and calls them under one retry policy."""
